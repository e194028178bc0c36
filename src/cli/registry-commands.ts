// `facegate migrate | registry add | registry import`: the schema and the citizen registry from the
// command line, every change audited with the operator. Results go to stdout only; nothing here
// logs a national ID or a name.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { readManifest } from '../biometrics/models.ts';
import { createEnginePool, type FaceAnalyzer } from '../biometrics/pool.ts';
import { openDatabase, type Db } from '../db/knex.ts';
import { migrateLatest } from '../db/migrate.ts';
import type { RegistryActor } from '../registry/changes.ts';
import { enrollCitizen } from '../registry/enroll.ts';
import { importRegistry, type ImportSummary } from '../registry/import.ts';
import { embeddingModelIdFromManifest } from '../registry/templates.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { createSealer } from '../shared/sealed.ts';
import { print, readInput, type OutputOptions } from './output.ts';
import type { Run } from './db.ts';

interface OperatorOptions { operator?: string }
interface AddOptions extends OutputOptions, OperatorOptions {
  nationalId: string; givenName: string; familyName: string; birthdate: string; address?: string; photo: string; replace?: boolean;
}
interface ImportCliOptions extends OutputOptions, OperatorOptions { csv: string; photos: string; force?: boolean }

const maxOperatorLength = 100;

/** Who runs the command, for the audit trail: `--operator`, else the OS user name. */
function actorOf(option: string | undefined, source: string): RegistryActor {
  if (option !== undefined) {
    const name = option.trim();
    if (!name) throw new AppError('invalid_input', '--operator must not be empty');
    if (name.length > maxOperatorLength) throw new AppError('invalid_input', `--operator: at most ${maxOperatorLength} characters`);
    return { actor: name, source };
  }
  try {
    return { actor: userInfo().username, source };
  } catch {
    // No passwd entry for the uid (some containers).
    return { actor: 'unknown', source };
  }
}

/**
 * Opens and migrates the database, and a pool of `threads` face workers started on first use (a
 * re-import with nothing to analyze never loads the models); closes both after `body`.
 */
async function withRegistry<T>(config: Readonly<Config>, threads: number, body: (db: Db, analyzer: FaceAnalyzer) => Promise<T>): Promise<T> {
  const db = openDatabase(config.database);
  let pool: Promise<FaceAnalyzer> | undefined;
  const analyzer: FaceAnalyzer = {
    analyze: async (bytes, options) => (await (pool ??= createEnginePool(config.biometrics, threads))).analyze(bytes, options),
    close: async () => { if (pool) await (await pool).close(); },
  };
  try {
    await migrateLatest(db, config.database.schema);
    return await body(db, analyzer);
  } finally {
    await analyzer.close().finally(() => db.destroy());
  }
}

function describeImport(s: ImportSummary, ms: number): string {
  const lines = [
    `rows ${s.total}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.rejected.length} rejected (${(ms / 1000).toFixed(1)} s)`,
    ...s.rejected.map((r) => `  line ${r.line}${r.nationalId ? ` ${r.nationalId}` : ''}: ${r.code}: ${r.message}`),
  ];
  return lines.join('\n');
}

/** Registers `migrate` and the `registry` command group. */
export function registerRegistryCommands(program: Command, config: Readonly<Config>, run: Run): void {
  const sealer = () => createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
  const clock = () => Date.now();

  program.command('migrate')
    .description('Bring the database schema up to date (creates the PostgreSQL schema if named)')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions) => run(!!opts.json, async () => {
      const db = openDatabase(config.database);
      try {
        const ran = await migrateLatest(db, config.database.schema);
        print(opts, { ran }, () => (ran.length ? `ran ${ran.join(', ')}` : 'schema already up to date'));
      } finally {
        await db.destroy();
      }
    }));

  const registry = program.command('registry').description('The citizen registry: records and encrypted face templates');

  registry.command('add')
    .description('Enroll one citizen from a record and a reference photo (enrollment-grade quality); an ID already registered is refused (citizen_exists) unless --replace')
    .requiredOption('--national-id <id>', '6-20 letters or digits')
    .requiredOption('--given-name <name>')
    .requiredOption('--family-name <name>')
    .requiredOption('--birthdate <YYYY-MM-DD>')
    .option('--address <address>')
    .requiredOption('--photo <file>', 'JPEG, PNG or WebP reference photo (not stored)')
    .option('--replace', 'update the citizen registered under this ID: her record and her face template')
    .option('--operator <name>', 'who enrolls, for the audit trail (default: the OS user name)')
    .option('--json', 'print JSON')
    .action((opts: AddOptions) => run(!!opts.json, async () => {
      const by = actorOf(opts.operator, 'registry add');
      const photo = await readInput(opts.photo);
      const input = { nationalId: opts.nationalId, givenName: opts.givenName, familyName: opts.familyName, birthdate: opts.birthdate, address: opts.address };
      const result = await withRegistry(config, 1, (db, analyzer) => enrollCitizen({ db, analyzer, sealer: sealer(), clock, auditSecrets: config.secrets }, input, photo, { replace: !!opts.replace, by }))
        .catch((err: unknown) => {
          if (isAppError(err) && err.code === 'citizen_exists') {
            throw new AppError('citizen_exists', 'this national ID is already in the registry; --replace updates her record and face template');
          }
          throw err;
        });
      print(opts, result, () => `${result.change} citizen ${result.citizen.id} (${result.citizen.nationalId}); template ${result.templateModelId} ${result.templateChange}`);
    }));

  registry.command('import')
    .description('Enroll every row of a registry CSV (national_id,given_name,family_name,birthdate,address,photo), creating or updating (record and face template) the citizen of each; exit 1 if any row is rejected')
    .requiredOption('--csv <file>', 'registry CSV')
    .requiredOption('--photos <dir>', 'folder the photo column is relative to')
    .option('--force', 're-analyze rows already enrolled with the current model')
    .option('--operator <name>', 'who imports, for the audit trail (default: the OS user name)')
    .option('--json', 'print JSON')
    .action((opts: ImportCliOptions) => run(!!opts.json, async () => {
      const by = actorOf(opts.operator, 'registry import');
      if (!existsSync(opts.csv)) throw new AppError('file_not_found', `${opts.csv}: no such file`);
      const modelId = embeddingModelIdFromManifest(readManifest(config.biometrics.modelsDir));
      const bar = !opts.json && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 'importing {bar} {value}/{total} rows' }, cliProgress.Presets.shades_classic)
        : undefined;
      const started = Date.now();
      const threads = config.biometrics.workers;
      const summary = await withRegistry(config, threads, async (db, analyzer) => {
        try {
          return await importRegistry({ db, analyzer, sealer: sealer(), clock, modelId, auditSecrets: config.secrets }, {
            csvPath: opts.csv,
            photosDir: opts.photos,
            force: !!opts.force,
            by,
            concurrency: Math.max(2, threads),
            maxPhotoBytes: config.biometrics.image.maxBytes,
            onProgress: bar && ((done, total) => (done === 1 ? bar.start(total, done) : bar.update(done))),
          });
        } finally {
          bar?.stop();
        }
      });
      const ms = Date.now() - started;
      print(opts, { ...summary, ms }, () => describeImport(summary, ms));
      if (summary.rejected.length) process.exitCode = 1;
    }));
}
