/* tests/fault/powercut.h: the power-loss nemesis. After a broker is killed
 * with SIGKILL, pc_cut() cuts its data directory back to what the broker
 * had made durable, as read from the trace it kept under
 * TERN_TEST_DURABLE_LOG (format: log/durable_trace.h; test builds only):
 *
 *   - a file or directory that the last fsync of its directory did not
 *     list goes, a directory with everything in it (the data directory
 *     itself is kept: its parent is not the broker's);
 *   - a listed file is truncated to the length its last fsync covered, 0
 *     when it was never fsynced, and never extended;
 *   - a name listed with another inode than the one it has now (replaced by
 *     a rename since) keeps the new file, cut to the new inode's own last
 *     fsynced length: the rename is taken as durable, which a file system
 *     may do; a directory there goes like an unlisted one.
 *
 * Files removed since the last fsync cannot come back, nor can bytes
 * overwritten in place: the cut is a crash that also loses every write not
 * yet fsynced, a subset of what a real power loss can do.
 * "Last" is by when the fsync read the length or listing (the trace's run
 * and seq), not by when it completed. Use one trace file per broker, kept
 * across its restarts, outside its data directory. */
#ifndef TERN_TESTS_FAULT_POWERCUT_H
#define TERN_TESTS_FAULT_POWERCUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a cut did. */
typedef struct pc_counts {
	long files_removed;   /* files (anything not a directory) deleted */
	long dirs_removed;    /* directories deleted, nested ones included */
	long files_truncated; /* files cut shorter */
	uint64_t bytes_cut;   /* bytes of deleted files plus bytes truncated */
} pc_counts_t;

/* Applies a power cut to data_dir of a dead broker from its trace at
 * trace_path. Returns 0, or -1 with the reason in why: the trace is missing,
 * malformed or never opened by a broker (no S line: was ternd built with
 * -Dfault_injection=true and given TERN_TEST_DURABLE_LOG?), or a file
 * could not be examined, deleted or truncated (the tree may then be half
 * cut). pc_cut_counted() also fills *counts (may be NULL). */
int pc_cut(const char *data_dir, const char *trace_path, char *why, size_t whylen);
int pc_cut_counted(const char *data_dir, const char *trace_path, pc_counts_t *counts, char *why,
		   size_t whylen);

/* ---- the parsed trace (pure: no I/O) ---- */

/* A file's identity: inode number and birth time (ns, 0 when unknown). Two
 * ids match when their inodes do and their births do or either is 0. */
typedef struct pc_id {
	uint64_t ino;
	uint64_t birth;
} pc_id_t;

typedef struct pc_entry {
	char *name;
	pc_id_t id;
} pc_entry_t;

/* The listing of one directory fsync. */
typedef struct pc_dir {
	char *path;
	pc_id_t id;
	pc_entry_t *ents;
	size_t nents;
	uint64_t run, seq; /* its place: runs count S lines, seq within a run */
} pc_dir_t;

typedef struct pc_trace pc_trace_t;

/* Parses a whole trace text[0..len). A last line without its newline (a
 * write cut short) is ignored. Returns 0 and *out (free with
 * pc_trace_free), or -1 with the line number and what is wrong in why. */
int pc_trace_parse(const char *text, size_t len, pc_trace_t **out, char *why, size_t whylen);
void pc_trace_free(pc_trace_t *t);

/* Runs (S lines) seen. */
uint64_t pc_trace_runs(const pc_trace_t *t);

/* The length covered by the last fsync of the file id: true and *size, or
 * false when no fsync of it is recorded. */
bool pc_trace_file_size(const pc_trace_t *t, pc_id_t id, uint64_t *size);

/* The last directory fsync recorded at path (borrowed from t), or NULL. */
const pc_dir_t *pc_trace_dir(const pc_trace_t *t, const char *path);

/* Whether two ids name the same file. */
bool pc_id_match(pc_id_t a, pc_id_t b);

#endif
