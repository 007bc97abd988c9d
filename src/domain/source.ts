/**
 * The source of a write (CONTRACT §2): a key such as `sis-nightly` naming the feed that sends it.
 * An enrollment remembers the source of the last write that made it active or found it active; a
 * roster sync with a source sweeps only that source's enrollments.
 */
export const SOURCE_KEY = /^[a-z0-9._-]{1,64}$/;

export const SOURCE_RULE = '1 to 64 characters of a-z, 0-9, ".", "_" and "-"';

export const isSourceKey = (s: string): boolean => SOURCE_KEY.test(s);
