/** Test helper: one `<gpu>` of a multi-GPU `-q -x` fixture as its own report (what `-i N` prints). */
import { readFileSync } from 'node:fs';
import { fixture } from './fake-smi.js';

export function singleGpuXml(name: string, index: number): string {
  const text = readFileSync(fixture(name), 'utf8');
  const blocks = text.split(/(?=\t<gpu id=)/);
  const head = blocks[0]!.replace(/<attached_gpus>\d+<\/attached_gpus>/, '<attached_gpus>1</attached_gpus>');
  const gpu = blocks[index + 1]!.replace(/<\/nvidia_smi_log>\s*$/, '');
  return `${head}${gpu}</nvidia_smi_log>\n`;
}
