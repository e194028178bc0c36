// The `facegate` command: parses the configuration once and registers every sub-command.
import { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerDeviceCommands } from './device-commands.ts';
import { registerDocumentCommands } from './document-commands.ts';
import { registerEvalCommands } from './eval-commands.ts';
import { registerFaceCommands } from './face-commands.ts';
import { registerKeyCommands } from './key-commands.ts';
import { registerOidcCommands } from './oidc-commands.ts';
import { registerOnboardingCommands } from './onboarding-commands.ts';
import { registerRegistryCommands } from './registry-commands.ts';
import { registerReportCommands } from './report-commands.ts';
import { registerRiskCommands } from './risk-commands.ts';
import { fail } from './output.ts';

async function run(json: boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    fail(err, json);
  }
}

const program = new Command('facegate')
  .description('Facegate: face verification gateway for government e-services')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

let config;
try {
  config = loadConfig();
} catch (err) {
  fail(err, process.argv.includes('--json'));
}
registerFaceCommands(program, config, run);
registerEvalCommands(program, config, run);
registerRegistryCommands(program, config, run);
registerOidcCommands(program, config, run);
registerKeyCommands(program, config, run);
registerAuditCommands(program, config, run);
registerRiskCommands(program, config, run);
registerDocumentCommands(program, config, run);
registerDeviceCommands(program, config, run);
registerReportCommands(program, config, run);
registerOnboardingCommands(program, config, run);
await program.parseAsync(process.argv);
