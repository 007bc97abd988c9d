/** The streams a command reads and writes: the process's, or a test's. */
export type Io = { stdin: NodeJS.ReadableStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };
