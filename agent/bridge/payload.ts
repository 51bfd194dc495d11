/** The entry a save callback writes inside a checkpoint (`dir/model`), as a file or a directory. */
export const PAYLOAD_NAME = 'model';
