import type { Node__Output } from '../common/proto/types.js';

/**
 * The PY cell of `nsml node ls`: the Python versions a node offers sessions (`nsml run --python`),
 * as X.Y, the default first, `+img` when it runs container images (`nsml run --image`); `-` for
 * an agent too old to say.
 */
export function nodePythons(node: Node__Output): string {
  const versions = (node.inventory?.pythons ?? []).map((v) => v.split('.').slice(0, 2).join('.'));
  const unique = [...new Set(versions)];
  const images = node.inventory?.containerRuntime ? ` +img(${node.inventory.containerRuntime})` : '';
  return unique.length === 0 && !images ? '-' : `${unique.join(',') || '-'}${images}`;
}
