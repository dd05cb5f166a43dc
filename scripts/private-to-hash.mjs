// One-off codemod, kept for merging branches written before it: turns TypeScript `private` class
// members into JavaScript `#private` ones (the codebase's one way), in place.
//   node scripts/private-to-hash.mjs src/chatter/connection.ts ...   (then: npx tsc --noEmit)
// A `private` parameter property becomes a `#` field assigned first thing in the constructor (after
// super()). `private constructor` stays: `#` cannot express it. What it cannot convert safely
// (destructuring a private member, a field initializer that reads a converted parameter property)
// it reports, and leaves that file alone.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const files = process.argv.slice(2).map((f) => path.resolve(f));
const program = ts.createProgram(files, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  noEmit: true,
  strict: true,
});
const checker = program.getTypeChecker();
const isPrivate = (node) => (ts.canHaveModifiers(node) ? ts.getModifiers(node) ?? [] : []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);

for (const file of files) {
  const sf = program.getSourceFile(file);
  const text = sf.getFullText();
  const edits = []; // { start, end, text }
  const problems = [];
  const symbols = new Map(); // member symbol -> new name

  ts.forEachChild(sf, function visitClasses(node) {
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) convertClass(node);
    ts.forEachChild(node, visitClasses);
  });

  function removeModifier(node, kind) {
    const mod = ts.getModifiers(node).find((m) => m.kind === kind);
    let end = mod.end;
    while (text[end] === ' ') end++;
    edits.push({ start: mod.getStart(sf), end, text: '' });
  }

  function convertClass(cls) {
    const ctor = cls.members.find((m) => ts.isConstructorDeclaration(m) && m.body);
    const paramProps = ctor ? ctor.parameters.filter(isPrivate) : [];
    for (const member of cls.members) {
      if (ts.isConstructorDeclaration(member) || !isPrivate(member) || !member.name || !ts.isIdentifier(member.name)) continue;
      symbols.set(checker.getSymbolAtLocation(member.name), `#${member.name.text}`);
      removeModifier(member, ts.SyntaxKind.PrivateKeyword);
      edits.push({ start: member.name.getStart(sf), end: member.name.end, text: `#${member.name.text}` });
    }
    if (paramProps.length === 0) return;
    const fieldIndent = ' '.repeat(ts.getLineAndCharacterOfPosition(sf, ctor.getStart(sf)).character);
    const fields = [];
    const assigns = [];
    for (const param of paramProps) {
      const name = param.name.text;
      const symbol = checker.getSymbolsOfParameterPropertyDeclaration(param, name).find((s) => s.flags & ts.SymbolFlags.Property);
      symbols.set(symbol, `#${name}`);
      const readonly = (ts.getModifiers(param) ?? []).some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
      const type = param.type ? `: ${param.type.getText(sf)}` : '';
      fields.push(`${fieldIndent}${readonly ? 'readonly ' : ''}#${name}${type};\n`);
      assigns.push(`this.#${name} = ${name};`);
      for (const m of ts.getModifiers(param)) {
        let end = m.end;
        while (text[end] === ' ') end++;
        edits.push({ start: m.getStart(sf), end, text: '' });
      }
    }
    // Field initializers run before the constructor body: one that reads a converted parameter property would see undefined.
    for (const member of cls.members) {
      if (!ts.isPropertyDeclaration(member) || !member.initializer) continue;
      const reads = (n) => (ts.isPropertyAccessExpression(n) && symbols.has(checker.getSymbolAtLocation(n.name)) && paramProps.some((p) => p.name.text === n.name.text)) || ts.forEachChild(n, reads);
      if (reads(member.initializer)) problems.push(`field ${member.name.getText(sf)} reads a parameter property in its initializer`);
    }
    edits.push({ start: ctor.getFullStart(), end: ctor.getFullStart(), text: `\n${fields.join('').trimEnd()}` });
    const body = ctor.body.statements;
    const superCall = body.find((s) => ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) && s.expression.expression.kind === ts.SyntaxKind.SuperKeyword);
    const bodyIndent = ' '.repeat(fieldIndent.length + 2);
    const at = superCall ? superCall.end : ctor.body.getStart(sf) + 1;
    edits.push({ start: at, end: at, text: assigns.map((a) => `\n${bodyIndent}${a}`).join('') });
  }

  ts.forEachChild(sf, function visitRefs(node) {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.name)) {
      const renamed = symbols.get(checker.getSymbolAtLocation(node.name));
      if (renamed) edits.push({ start: node.name.getStart(sf), end: node.name.end, text: renamed });
    }
    if (ts.isBindingElement(node) || ts.isShorthandPropertyAssignment(node) || ts.isElementAccessExpression(node)) {
      const symbol = checker.getSymbolAtLocation(node.propertyName ?? node.name ?? node.argumentExpression);
      if (symbol && symbols.has(symbol)) problems.push(`${node.getText(sf)} reaches a private member without a property access`);
    }
    ts.forEachChild(node, visitRefs);
  });

  const rel = path.relative(process.cwd(), file);
  if (problems.length > 0) {
    console.error(`${rel}: left alone:\n  ${problems.join('\n  ')}`);
    continue;
  }
  if (edits.length === 0) continue;
  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  writeFileSync(file, out);
  console.log(`${rel}: ${symbols.size} member(s)`);
}
