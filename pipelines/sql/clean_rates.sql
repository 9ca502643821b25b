-- Typed, de-duplicated rates for the chosen base currency, up to the end of the run's interval.
-- The API repeats records and sometimes sends a null rate: both are dropped here.
select distinct
  cast(date as date)   as day,
  currency,
  cast(rate as double) as rate
from extract
where base = {{ params.base | sql }}
  and rate is not null
  and cast(date as date) < cast({{ interval.end_iso | sql }} as timestamptz)
