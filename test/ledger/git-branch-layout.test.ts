/** Pure parts of the git ledger, without git: paths, the marker check, cat-file parsing. */
import { describe, expect, it } from 'vitest';
import { parseCatFileBatch } from '../../src/adapters/git.ts';
import { assertLedgerMarker, markerContent, parseState, runIdOfPath, runPath } from '../../src/ledger/git-branch-layout.ts';
import { CorruptLedgerBranchError, ForeignLedgerBranchError } from '../../src/ledger/git-errors.ts';
import { idAt } from './contract.ts';
import { finishedRun } from './ledger-fixtures.ts';

describe('the ledger branch layout', () => {
  it('puts a run in its pipeline and UTC start day, and reads the run id back from the path', () => {
    const path = runPath(finishedRun(idAt(1), { pipeline: 'daily' }));
    expect(path).toBe(`daily/runs/2026-11/02/${idAt(1)}.json`);
    expect(runIdOfPath(path)).toBe(idAt(1));
    expect(runIdOfPath('daily/state.json')).toBeUndefined();
    expect(runIdOfPath(`daily/active/${idAt(1)}.json`)).toBeUndefined();
  });

  it('accepts the marker it writes and refuses a missing, foreign, damaged or newer one', () => {
    expect(() => assertLedgerMarker('weir-ledger', markerContent())).not.toThrow();
    expect(() => assertLedgerMarker('main', undefined)).toThrow(ForeignLedgerBranchError);
    expect(() => assertLedgerMarker('b', '{"format":"other"}')).toThrow(/ledger branch 'b': .weir-ledger names format 'other'/);
    expect(() => assertLedgerMarker('b', '{ torn')).toThrow(CorruptLedgerBranchError);
    expect(() => assertLedgerMarker('b', '{"format":"weir-ledger","version":99}')).toThrow(/newer than this weir reads \(1\): upgrade weir/);
  });

  it('reads an absent state as empty and a damaged one as an error naming the file', () => {
    expect(parseState('b', 'p', undefined)).toEqual({ watermarks: {}, processedFiles: {} });
    expect(() => parseState('b', 'p', 'nope')).toThrow(/ledger branch 'b': p\/state.json is not valid JSON/);
  });
});

describe('parseCatFileBatch', () => {
  it('splits blobs by their byte size, multi-byte text included, and maps missing objects to undefined', () => {
    const text = '{"name":"café ☕"}';
    const bytes = Buffer.byteLength(text);
    const output = Buffer.from(`0123abcd blob ${bytes}\n${text}\nc0ffee:p/x.json missing\nabcd0123 blob 2\n{}\n`);
    expect(parseCatFileBatch(output, 3)).toEqual([text, undefined, '{}']);
  });

  it('throws when git answered fewer objects than asked', () => {
    expect(() => parseCatFileBatch(Buffer.from('abcd blob 2\n{}\n'), 2)).toThrow(/answered 1 of 2 objects/);
  });
});
