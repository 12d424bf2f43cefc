import { ExitCode, exitCodeMeanings, type ExitCodeName } from '../errors.js';
import { usageLine } from './help.js';
import { outputOptions, sessionOptions } from './options.js';
import { optionLabel, type CommandSpec, type OptionSpec } from './spec.js';

// The README's tables of options, commands, settings and exit codes, written from the specs
// between `<!-- generated: NAME -->` and `<!-- end -->`, so the document cannot drift from the
// code: `npm run docs` (scripts/docs.mjs) rewrites them, and a test fails when the README
// differs from what this would write.

const shared = new Set([...sessionOptions, ...outputOptions].map((o) => o.name));

function optionRows(options: OptionSpec[]): string[] {
  const lftp = options.some((o) => o.lftp);
  const head = lftp ? ['| option | lftp | meaning | default |', '| --- | --- | --- | --- |'] : ['| option | meaning | default |', '| --- | --- | --- |'];
  return [
    ...head,
    ...options.map((o) => {
      const cells = [`\`${cell(optionLabel(o))}\``, ...(lftp ? [o.lftp ? `\`${o.lftp}\`` : ''] : []), cell(o.describe), defaultText(o)];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

function defaultText(o: OptionSpec): string {
  if (o.default === undefined || o.default === false) return '';
  return o.type === 'boolean' ? 'on' : `${o.default}`;
}

/** The generated blocks, by name. */
export function readmeBlocks(cli: Array<CommandSpec>, shell: Array<CommandSpec>, settings: Record<string, { about: string; aliases: string[] }>): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  blocks.set('commands', [
    '| command | what it does |',
    '| --- | --- |',
    ...cli.map((s) => `| \`rftp ${usageLine(s)}\`${s.aliases?.length ? ` (also ${s.aliases.map((a) => `\`${a}\``).join(', ')})` : ''} | ${cell(s.summary)} |`),
  ]);
  blocks.set('options-connection', optionRows([...sessionOptions, ...outputOptions]));
  for (const s of cli) {
    const own = s.options.filter((o) => !shared.has(o.name));
    if (own.length > 0) blocks.set(`options-${s.name}`, optionRows(own));
  }
  const shellOnly = shell.filter((s) => s.modes && !s.modes.includes('cli'));
  blocks.set('shell-commands', [
    '| command | what it does |',
    '| --- | --- |',
    ...shellOnly.map((s) => `| \`${s.name === '!' ? '!COMMAND' : usageLine(s)}\`${s.aliases?.length ? ` (also ${s.aliases.map((a) => `\`${a}\``).join(', ')})` : ''} | ${cell(s.summary)} |`),
  ]);
  const users = (name: string) => [...new Set(shell.flatMap((s) => s.options.filter((o) => o.setting === name).map((o) => `\`${s.name} --${o.name}\``)))];
  blocks.set('settings', [
    '| setting | lftp | what it is | default of |',
    '| --- | --- | --- | --- |',
    ...Object.entries(settings).map(([name, s]) => `| \`${name}\` | ${s.aliases.map((a) => `\`${a}\``).join(', ')} | ${cell(s.about)} | ${users(name).join(', ')} |`),
  ]);
  blocks.set('exit-codes', ['| code | meaning |', '| --- | --- |', ...(Object.keys(ExitCode) as ExitCodeName[]).map((k) => `| ${ExitCode[k]} | ${cell(exitCodeMeanings[k])} |`)]);
  return blocks;
}

/** The README with every generated block rewritten; a block the README lacks is an error. */
export function renderReadme(text: string, blocks: Map<string, string[]>): string {
  let out = text;
  for (const [name, lines] of blocks) {
    const re = new RegExp(`(<!-- generated: ${name} -->\\n)[\\s\\S]*?(<!-- end -->)`);
    if (!re.test(out)) throw new Error(`README.md has no block <!-- generated: ${name} --> … <!-- end -->`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}${lines.join('\n')}\n${close}`);
  }
  const stale = [...out.matchAll(/<!-- generated: ([\w-]+) -->/g)].map((m) => m[1]).filter((n) => !blocks.has(n));
  if (stale.length > 0) throw new Error(`README.md has blocks no spec writes any more: ${stale.join(', ')}`);
  return out;
}
