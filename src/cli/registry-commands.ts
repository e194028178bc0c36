// `facegate migrate | registry add | registry import`: the schema and the citizen registry from the
// command line. Results go to stdout only; nothing here logs a national ID or a name.
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { readManifest } from '../biometrics/models.ts';
import { createEnginePool, type FaceAnalyzer } from '../biometrics/pool.ts';
import { openDatabase, type Db } from '../db/knex.ts';
import { migrateLatest } from '../db/migrate.ts';
import { enrollCitizen } from '../registry/enroll.ts';
import { importRegistry, type ImportSummary } from '../registry/import.ts';
import { embeddingModelIdFromManifest } from '../registry/templates.ts';
import { AppError } from '../shared/errors.ts';
import { createSealer } from '../shared/sealed.ts';
import { print, readInput, type OutputOptions } from './output.ts';
import type { Run } from './db.ts';


interface AddOptions extends OutputOptions {
  nationalId: string; givenName: string; familyName: string; birthdate: string; address?: string; photo: string;
}
interface ImportCliOptions extends OutputOptions { csv: string; photos: string; force?: boolean }

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
    .description('Enroll or update one citizen from a record and a reference photo (enrollment-grade quality)')
    .requiredOption('--national-id <id>', '6-20 letters or digits')
    .requiredOption('--given-name <name>')
    .requiredOption('--family-name <name>')
    .requiredOption('--birthdate <YYYY-MM-DD>')
    .option('--address <address>')
    .requiredOption('--photo <file>', 'JPEG, PNG or WebP reference photo (not stored)')
    .option('--json', 'print JSON')
    .action((opts: AddOptions) => run(!!opts.json, async () => {
      const photo = await readInput(opts.photo);
      const input = { nationalId: opts.nationalId, givenName: opts.givenName, familyName: opts.familyName, birthdate: opts.birthdate, address: opts.address };
      const result = await withRegistry(config, 1, (db, analyzer) => enrollCitizen({ db, analyzer, sealer: sealer(), clock }, input, photo));
      print(opts, result, () => `${result.change} citizen ${result.citizen.id} (${result.citizen.nationalId}); template ${result.templateModelId} ${result.templateChange}`);
    }));

  registry.command('import')
    .description('Enroll every row of a registry CSV (national_id,given_name,family_name,birthdate,address,photo); exit 1 if any row is rejected')
    .requiredOption('--csv <file>', 'registry CSV')
    .requiredOption('--photos <dir>', 'folder the photo column is relative to')
    .option('--force', 're-analyze rows already enrolled with the current model')
    .option('--json', 'print JSON')
    .action((opts: ImportCliOptions) => run(!!opts.json, async () => {
      if (!existsSync(opts.csv)) throw new AppError('file_not_found', `${opts.csv}: no such file`);
      const modelId = embeddingModelIdFromManifest(readManifest(config.biometrics.modelsDir));
      const bar = !opts.json && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 'importing {bar} {value}/{total} rows' }, cliProgress.Presets.shades_classic)
        : undefined;
      const started = Date.now();
      const threads = config.biometrics.workers;
      const summary = await withRegistry(config, threads, async (db, analyzer) => {
        try {
          return await importRegistry({ db, analyzer, sealer: sealer(), clock, modelId }, {
            csvPath: opts.csv,
            photosDir: opts.photos,
            force: !!opts.force,
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
