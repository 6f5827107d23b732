/**
 * Finds the English `detail` of every problem thrown in src/ (tests only: the French table in
 * problem-details-fr.ts must hold each one, src/http/problem-details.test.ts). A message is the
 * string or template argument of a call that makes a problem: `new HttpProblem`, a domain error
 * factory (`.of`, `.notFound`, …), identity's `refuse`/`unauthorized`, the orders decider's
 * `invalid`, and the errors the edge passes through as problems (orders' `OrderError`,
 * `CartError`, `PricingError`). A template is written as in the source, `${expression}` and all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const PROBLEM_MAKERS =
  /^(HttpProblem|DomainError|OrderError|CartError|PricingError|of|validation|unauthorized|forbidden|notFound|conflict|preconditionFailed|unprocessable|rateLimited|unavailable|refuse|tooManyRequests|sendProblem|invalid)$/;
/** Programs whose messages go to a terminal, not to a client. */
const NOT_SERVED = [`${path.sep}cli${path.sep}`, `${path.sep}seed${path.sep}`];

export interface ThrownDetail {
  file: string;
  line: number;
  /** The English text; a template keeps its `${expression}`s as written. */
  text: string;
  template: boolean;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const full = path.join(directory, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

/**
 * The text of a string argument ('a', `b ${c}`, 'a' + 'b'; each branch of `c ? 'a' : 'b'` is
 * looked at alone), or undefined for anything else.
 */
function textOf(node: ts.Node, source: ts.SourceFile): { text: string; template: boolean } | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    return { text: node.text, template: false };
  if (ts.isTemplateExpression(node)) {
    const text =
      node.head.text +
      node.templateSpans.map((span) => `\${${span.expression.getText(source)}}${span.literal.text}`).join('');
    return { text, template: true };
  }
  if (ts.isParenthesizedExpression(node)) return textOf(node.expression, source);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = textOf(node.left, source);
    const right = textOf(node.right, source);
    if (left === undefined || right === undefined) return undefined;
    return { text: left.text + right.text, template: left.template || right.template };
  }
  return undefined;
}

/** A sentence a person reads: has a space, and is more than one `${…}`. */
const isSentence = (text: string) => /\s/.test(text) && text.replace(/\$\{[^}]*\}/g, '').trim().length > 3;

export function thrownDetails(root = 'src'): ThrownDetail[] {
  const found: ThrownDetail[] = [];
  for (const file of sourceFiles(root)) {
    if (NOT_SERVED.some((part) => file.includes(part))) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments !== undefined) {
        const callee = node.expression.getText(source).split('.').pop() ?? '';
        if (PROBLEM_MAKERS.test(callee))
          for (const argument of node.arguments.flatMap((one) =>
            ts.isConditionalExpression(one) ? [one.whenTrue, one.whenFalse] : [one],
          )) {
            const text = textOf(argument, source);
            if (text !== undefined && isSentence(text.text))
              found.push({
                file,
                line: source.getLineAndCharacterOfPosition(argument.getStart()).line + 1,
                ...text,
              });
          }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
