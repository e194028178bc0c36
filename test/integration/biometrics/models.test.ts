// The pinned model files: a missing or altered file stops the engine with its name and the fix.
import { describe, expect, it } from '@jest/globals';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFaceEngine } from '../../../src/biometrics/engine.ts';
import { readManifest, verifyModels } from '../../../src/biometrics/models.ts';
import { config } from '../../helpers/engine.ts';

const copyModels = () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-models-test-'));
  for (const f of readdirSync(config.biometrics.modelsDir)) copyFileSync(join(config.biometrics.modelsDir, f), join(dir, f));
  return dir;
};

describe('model manifest', () => {
  it('verifies the installed models against their pinned sha256', () => {
    const manifest = verifyModels(config.biometrics.modelsDir);
    expect(manifest.source).toMatchObject({ package: 'faceplugin-face-recognition-js', version: '0.0.1' });
    expect(Object.keys(manifest.models).sort()).toEqual(['detect', 'eye', 'feature', 'landmark', 'liveness', 'pose']);
  });

  it('names an altered file and the command that restores it (model_mismatch)', async () => {
    const dir = copyModels();
    try {
      appendFileSync(join(dir, 'fr_feature.onnx'), 'x');
      expect(() => verifyModels(dir)).toThrow(expect.objectContaining({ code: 'model_mismatch', message: expect.stringMatching(/fr_feature\.onnx.*npm run models/) }));
      await expect(openFaceEngine({ ...config.biometrics, modelsDir: dir })).rejects.toMatchObject({ code: 'model_mismatch' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing file (model_missing)', () => {
    const dir = copyModels();
    try {
      rmSync(join(dir, 'fr_liveness.onnx'));
      expect(() => verifyModels(dir)).toThrow(expect.objectContaining({ code: 'model_missing', message: expect.stringContaining('fr_liveness.onnx') }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records inputs, outputs and preprocessing for every model', () => {
    for (const entry of Object.values(readManifest(config.biometrics.modelsDir).models)) {
      expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Object.keys(entry.inputs).length).toBeGreaterThan(0);
      expect(Object.keys(entry.outputs).length).toBeGreaterThan(0);
      expect(entry.preprocessing.length).toBeGreaterThan(10);
    }
  });
});
