import type { Thresholds } from '../loadtest/profile.js';
import type { RunFile } from '../loadtest/run-info.js';
import type { SettingDifference, SettingsComparison } from './model.js';
import { commitText, limitsText, openModelText, stagesText } from './run-section.js';

function differs(setting: string, current: string, baseline: string, informational = false): SettingDifference[] {
  if (current === baseline) return [];
  return [{ setting, current, baseline, informational, line: `${setting}: ${current} in this run, ${baseline} in the baseline` }];
}

function thresholdDifferences(current: RunFile, baseline: RunFile): SettingDifference[] {
  const runtimes = [...new Set([...Object.keys(current.thresholds), ...Object.keys(baseline.thresholds)])].sort();
  const text = (t: Thresholds | undefined) => (t ? limitsText(t) : 'none');
  return runtimes.flatMap((runtime) =>
    differs(`thresholds (${runtime})`, text(current.thresholds[runtime]), text(baseline.thresholds[runtime])),
  );
}

function functionDifference(current: RunFile, baseline: RunFile): SettingDifference[] {
  const now = current.functions.map((fn) => fn.name);
  const before = baseline.functions.map((fn) => fn.name);
  const onlyNow = now.filter((name) => !before.includes(name));
  const onlyBefore = before.filter((name) => !now.includes(name));
  if (onlyNow.length === 0 && onlyBefore.length === 0) return [];
  const parts = [
    ...(onlyNow.length > 0 ? [`only in this run: ${onlyNow.join(', ')}`] : []),
    ...(onlyBefore.length > 0 ? [`only in the baseline: ${onlyBefore.join(', ')}`] : []),
  ];
  return [
    {
      setting: 'functions',
      current: now.join(', '),
      baseline: before.join(', '),
      informational: false,
      line: `functions: ${parts.join('; ')}`,
    },
  ];
}

/**
 * The settings in which the baseline was made differently, one entry per difference. Those
 * that change what the figures mean come first; other builds and versions are informational.
 */
export function compareSettings(current: RunFile | undefined, baseline: RunFile | undefined): SettingsComparison {
  if (current === undefined || baseline === undefined) {
    const which =
      current === undefined && baseline === undefined
        ? 'neither run has'
        : current === undefined
          ? 'this run has no'
          : 'the baseline has no';
    return { differences: [], unknown: `${which} run.json, so whether both runs were made the same way is unknown` };
  }
  const differences = [
    ...differs('engine', current.engine, baseline.engine),
    ...differs('mode', current.mode, baseline.mode),
    // An open-model run is made by its arrival schedule; its VU stages and think time are unused.
    ...differs('load model', openModelText(current) ?? 'closed model (VU stages)', openModelText(baseline) ?? 'closed model (VU stages)'),
    ...(openModelText(current) === undefined && openModelText(baseline) === undefined
      ? [
          ...differs('stages', stagesText(current), stagesText(baseline)),
          ...differs('think time', `${current.thinkTimeSeconds} s`, `${baseline.thinkTimeSeconds} s`),
        ]
      : []),
    ...differs('cool-down', `${current.coolDownSeconds} s`, `${baseline.coolDownSeconds} s`),
    ...thresholdDifferences(current, baseline),
    ...functionDifference(current, baseline),
    ...differs('target', current.target.name, baseline.target.name),
    ...differs('CPU count', String(current.host.cpus), String(baseline.host.cpus)),
    ...differs('CPU model', current.host.cpuModel, baseline.host.cpuModel),
    ...differs('nanofaas commit', commitText(current), commitText(baseline), true),
    ...differs('nanofaas version', current.nanofaas.version, baseline.nanofaas.version, true),
    ...differs('Node', current.versions.node, baseline.versions.node, true),
    ...differs('k6', current.versions.k6 ?? 'not used', baseline.versions.k6 ?? 'not used', true),
  ];
  return { differences };
}

/** The terminal's and the pages' lines: warnings first, then the informational notes. */
export function settingsLines(settings: SettingsComparison | undefined): { level: 'warning' | 'note'; text: string }[] {
  if (settings === undefined) return [];
  const out: { level: 'warning' | 'note'; text: string }[] = [];
  if (settings.unknown) out.push({ level: 'warning', text: settings.unknown });
  for (const d of settings.differences) if (!d.informational) out.push({ level: 'warning', text: `baseline differs in ${d.line}` });
  for (const d of settings.differences)
    if (d.informational) out.push({ level: 'note', text: `baseline differs in ${d.line} (for information)` });
  return out;
}
