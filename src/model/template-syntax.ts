/**
 * Tokenizer and recursive-descent parser of the `{{ … }}` expression language.
 *
 * Hand-written on purpose: the language is tiny (paths, literals, comparisons, && || !, filters),
 * it must never evaluate code (so no `eval`/`new Function`), and validation needs the offset of
 * every token to point at the exact column in the YAML file. No well-kept library offers a safe,
 * small expression language with positions; Jinja/Nunjucks ports bring a whole template engine.
 */

/** A template could not be parsed or rendered. `offset` is the index in the template string. */
export class TemplateError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number, options: ErrorOptions = {}) {
    super(message, options);
    this.name = 'TemplateError';
    this.offset = offset;
  }
}

export type ExpressionNode =
  | { kind: 'literal'; value: string | number | boolean | null; offset: number }
  | { kind: 'path'; segments: string[]; offset: number }
  | { kind: 'not'; operand: ExpressionNode; offset: number }
  | { kind: 'binary'; op: BinaryOperator; left: ExpressionNode; right: ExpressionNode; offset: number }
  | { kind: 'filter'; name: FilterName; args: ExpressionNode[]; input: ExpressionNode; offset: number };

export type BinaryOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
export const FILTERS = { default: 1, upper: 0, lower: 0, date: 0, json: 0, sql: 0 } as const;
export type FilterName = keyof typeof FILTERS;

interface Token {
  type: 'name' | 'string' | 'number' | 'op' | 'end';
  text: string;
  offset: number;
}

// Names may contain '-' because param and stage names may (NAME_PATTERN); there is no subtraction.
const TOKEN_PATTERN = /\s*(?:([A-Za-z_][A-Za-z0-9_-]*)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|(==|!=|<=|>=|&&|\|\||[<>!().|,]))/y;

function tokenize(source: string, base: number): Token[] {
  const tokens: Token[] = [];
  TOKEN_PATTERN.lastIndex = 0;
  let position = 0;
  while (position < source.length) {
    if (/^\s*$/.test(source.slice(position))) break;
    TOKEN_PATTERN.lastIndex = position;
    const match = TOKEN_PATTERN.exec(source);
    if (!match) {
      const at = position + (source.slice(position).length - source.slice(position).trimStart().length);
      throw new TemplateError(`unexpected character '${source[at]}'`, base + at);
    }
    const text = match[1] ?? match[2] ?? match[3] ?? match[4];
    const type = match[1] ? 'name' : match[2] ? 'string' : match[3] ? 'number' : 'op';
    tokens.push({ type, text, offset: base + match.index + match[0].length - text.length });
    position = TOKEN_PATTERN.lastIndex;
  }
  tokens.push({ type: 'end', text: '', offset: base + source.length });
  return tokens;
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** Parses one expression (the text between `{{` and `}}`); `base` is its offset in the template. */
export function parseExpression(source: string, base = 0): ExpressionNode {
  const tokens = tokenize(source, base);
  let index = 0;
  const peek = (): Token => tokens[index];
  const isOp = (text: string): boolean => peek().type === 'op' && peek().text === text;
  const fail = (what: string): never => {
    const token = peek();
    const found = token.type === 'end' ? 'the end of the expression' : `'${token.text}'`;
    throw new TemplateError(`expected ${what}, found ${found}`, token.offset);
  };
  const expect = (text: string): void => {
    if (!isOp(text)) fail(`'${text}'`);
    index++;
  };

  function parseBinary(level: number): ExpressionNode {
    const operators = BINARY_LEVELS[level];
    if (!operators) return parseUnary();
    let left = parseBinary(level + 1);
    while (peek().type === 'op' && (operators as readonly string[]).includes(peek().text)) {
      const token = tokens[index++];
      const right = parseBinary(level + 1);
      left = { kind: 'binary', op: token.text as BinaryOperator, left, right, offset: left.offset };
      // Comparisons do not chain: `a < b < c` is almost always a mistake.
      if (level === COMPARISON_LEVEL) break;
    }
    return left;
  }

  function parseUnary(): ExpressionNode {
    if (isOp('!')) {
      const offset = tokens[index++].offset;
      return { kind: 'not', operand: parseUnary(), offset };
    }
    let node = parsePrimary();
    while (isOp('|')) {
      index++;
      node = parseFilter(node);
    }
    return node;
  }

  function parseFilter(input: ExpressionNode): ExpressionNode {
    const token = peek();
    if (token.type !== 'name') fail('a filter name after |');
    if (!Object.hasOwn(FILTERS, token.text)) {
      throw new TemplateError(`unknown filter '${token.text}': use ${Object.keys(FILTERS).join(', ')}`, token.offset);
    }
    index++;
    const name = token.text as FilterName;
    const args: ExpressionNode[] = [];
    if (isOp('(')) {
      index++;
      while (!isOp(')')) {
        if (args.length > 0) expect(',');
        args.push(parseBinary(0));
      }
      index++;
    }
    if (args.length !== FILTERS[name]) {
      const wanted = FILTERS[name] === 0 ? 'no arguments' : `${FILTERS[name]} argument, e.g. default('x')`;
      throw new TemplateError(`filter '${name}' takes ${wanted}`, token.offset);
    }
    return { kind: 'filter', name, args, input, offset: input.offset };
  }

  function parsePrimary(): ExpressionNode {
    const token = peek();
    if (isOp('(')) {
      index++;
      const inner = parseBinary(0);
      expect(')');
      return inner;
    }
    index++;
    if (token.type === 'string') return { kind: 'literal', value: unquote(token.text), offset: token.offset };
    if (token.type === 'number') return { kind: 'literal', value: Number(token.text), offset: token.offset };
    if (token.type === 'name') {
      if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true', offset: token.offset };
      if (token.text === 'null') return { kind: 'literal', value: null, offset: token.offset };
      return parsePath(token);
    }
    index--;
    return fail('a value (a name such as params.x, a quoted string or a number)');
  }

  function parsePath(first: Token): ExpressionNode {
    const segments = [first.text];
    while (isOp('.')) {
      index++;
      if (peek().type !== 'name') fail('a field name after .');
      segments.push(tokens[index++].text);
    }
    return { kind: 'path', segments, offset: first.offset };
  }

  if (peek().type === 'end') fail('an expression inside {{ }}');
  const node = parseBinary(0);
  if (peek().type !== 'end') fail('an operator or }}');
  return node;
}

const BINARY_LEVELS = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>=']] as const;
const COMPARISON_LEVEL = 2;

/** Every dotted path the expression reads, e.g. [['params','base'], ['interval','start']]. */
export function collectPaths(node: ExpressionNode, into: string[][] = []): string[][] {
  switch (node.kind) {
    case 'literal':
      return into;
    case 'path':
      into.push(node.segments);
      return into;
    case 'not':
      return collectPaths(node.operand, into);
    case 'binary':
      collectPaths(node.left, into);
      return collectPaths(node.right, into);
    case 'filter':
      collectPaths(node.input, into);
      for (const arg of node.args) collectPaths(arg, into);
      return into;
  }
}

/** One `{{ … }}` span of a template: where it starts and ends, and the expression text inside. */
export interface TemplateSpan {
  /** Offset of `{{`. */
  start: number;
  /** Offset just past `}}`. */
  end: number;
  /** Text between the braces. */
  inner: string;
  /** Offset of the first character of `inner`. */
  innerOffset: number;
}

/** Splits a template into its `{{ … }}` spans; throws on an unclosed `{{`. */
export function findSpans(template: string): TemplateSpan[] {
  const spans: TemplateSpan[] = [];
  let from = 0;
  for (;;) {
    const start = template.indexOf('{{', from);
    if (start < 0) return spans;
    const close = template.indexOf('}}', start + 2);
    if (close < 0) throw new TemplateError("'{{' is never closed: add '}}' after the expression", start);
    spans.push({ start, end: close + 2, inner: template.slice(start + 2, close), innerOffset: start + 2 });
    from = close + 2;
  }
}
