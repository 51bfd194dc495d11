import { missingBlobs, uploadBytes, uploadFiles } from '../../common/blobs/upload.js';
import type { CoordinatorClient } from '../client.js';
import type { BlobUploader } from './upload.js';

/** Uploads through the coordinator's BlobService, as the client's user. */
export function createBlobUploader(client: CoordinatorClient): BlobUploader {
  const options = () => ({ metadata: client.metadata(), target: client.address });
  return {
    async missing(hashes) {
      await client.ready();
      return [...(await missingBlobs(client.blobs, hashes, options())).keys()];
    },
    async uploadFiles(files) {
      await uploadFiles(client.blobs, files, options());
    },
    async uploadBytes(_hash, bytes) {
      await uploadBytes(client.blobs, bytes, options());
    },
  };
}
