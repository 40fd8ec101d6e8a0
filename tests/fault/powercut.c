/* tests/fault/powercut.c: the power-loss nemesis (see powercut.h): the
 * trace parser, then the cut of a data directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "powercut.h"

/* One F line. */
typedef struct pc_file {
	pc_id_t id;
	uint64_t run, seq, size;
	size_t line;
} pc_file_t;

/* Invariants once parsed: files sorted by (ino, run, seq, line), dirs by
 * (path, run, seq); every string owned by the trace. */
struct pc_trace {
	pc_file_t *files;
	size_t nfiles, capfiles;
	pc_dir_t *dirs;
	size_t ndirs, capdirs;
	uint64_t runs;
};

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

bool pc_id_match(pc_id_t a, pc_id_t b)
{
	return a.ino == b.ino && (a.birth == b.birth || !a.birth || !b.birth);
}

uint64_t pc_trace_runs(const pc_trace_t *t)
{
	return t->runs;
}

void pc_trace_free(pc_trace_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ndirs; i++) {
		for (size_t k = 0; k < t->dirs[i].nents; k++)
			free(t->dirs[i].ents[k].name);
		free(t->dirs[i].ents);
		free(t->dirs[i].path);
	}
	free(t->dirs);
	free(t->files);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                    */

/* The fields of one line, split at single spaces (in place). */
typedef struct fields {
	char **f;
	size_t n, cap;
} fields_t;

static bool split(char *line, fields_t *fs)
{
	char *p = line;

	fs->n = 0;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (fs->n == fs->cap) {
			size_t cap = fs->cap ? fs->cap * 2 : 16;
			char **nf = realloc(fs->f, cap * sizeof *nf);

			if (!nf)
				return false;
			fs->f = nf;
			fs->cap = cap;
		}
		fs->f[fs->n++] = p;
		if (!sp)
			return true;
		*sp = '\0';
		p = sp + 1;
	}
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && *end == '\0';
}

static bool parse_id(char *s, pc_id_t *id)
{
	char *colon = strchr(s, ':');
	bool ok;

	if (!colon)
		return false;
	*colon = '\0';
	ok = parse_u64(s, &id->ino) && parse_u64(colon + 1, &id->birth);
	*colon = ':';
	return ok;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A path or name with its \xHH escapes decoded, malloc()ed; NULL when
 * malformed (bad escape, empty, or decoding to a NUL). */
static char *unescape(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *out = malloc(len + 1);

	if (!out || !len)
		goto fail;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (i + 3 >= len || s[i + 1] != 'x' || hexval(s[i + 2]) < 0 || hexval(s[i + 3]) < 0)
			goto fail;
		out[o] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
		if (!out[o])
			goto fail;
		o++;
		i += 3;
	}
	out[o] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

static int cmp_files(const void *a, const void *b)
{
	const pc_file_t *x = a, *y = b;

	if (x->id.ino != y->id.ino)
		return x->id.ino < y->id.ino ? -1 : 1;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_dirs(const void *a, const void *b)
{
	const pc_dir_t *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Parses one complete line (NUL-terminated, modified in place) into t. */
static int parse_line(pc_trace_t *t, char *line, fields_t *fs, char *why, size_t whylen,
		      size_t lineno)
{
	uint64_t seq, n;
	char **f;

	if (!split(line, fs)) {
		set_why(why, whylen, "out of memory");
		return -1;
	}
	f = fs->f;
	if (!strcmp(f[0], "S") && fs->n == 2 && parse_u64(f[1], &n)) {
		t->runs++;
		return 0;
	}
	if (!strcmp(f[0], "F") && fs->n == 5) {
		pc_file_t r = {.run = t->runs, .line = lineno};

		if (!parse_u64(f[1], &r.seq) || !parse_id(f[3], &r.id) || !parse_u64(f[4], &r.size))
			goto bad;
		if (t->nfiles == t->capfiles) {
			size_t cap = t->capfiles ? t->capfiles * 2 : 64;
			pc_file_t *nf = realloc(t->files, cap * sizeof *nf);

			if (!nf)
				goto nomem;
			t->files = nf;
			t->capfiles = cap;
		}
		t->files[t->nfiles++] = r;
		return 0;
	}
	if (!strcmp(f[0], "D") && fs->n >= 5 && parse_u64(f[1], &seq) && parse_u64(f[4], &n) &&
	    n == (fs->n - 5) / 2 && (fs->n - 5) % 2 == 0) {
		pc_dir_t d = {.run = t->runs, .seq = seq, .nents = 0};

		if (!parse_id(f[3], &d.id))
			goto bad;
		if (t->ndirs == t->capdirs) {
			size_t cap = t->capdirs ? t->capdirs * 2 : 16;
			pc_dir_t *nd = realloc(t->dirs, cap * sizeof *nd);

			if (!nd)
				goto nomem;
			t->dirs = nd;
			t->capdirs = cap;
		}
		d.ents = calloc(n ? n : 1, sizeof *d.ents);
		if (!d.ents)
			goto nomem;
		/* Stored now so that pc_trace_free frees what is built so far. */
		t->dirs[t->ndirs++] = d;
		pc_dir_t *dp = &t->dirs[t->ndirs - 1];

		dp->path = unescape(f[2]);
		if (!dp->path)
			goto bad;
		for (size_t k = 0; k < n; k++) {
			pc_entry_t *e = &dp->ents[k];

			e->name = unescape(f[5 + 2 * k]);
			if (!e->name)
				goto bad;
			dp->nents++;
			if (!parse_id(f[6 + 2 * k], &e->id) || strchr(e->name, '/'))
				goto bad;
		}
		return 0;
	}
bad:
	set_why(why, whylen, "trace line %zu: malformed (%s ...)", lineno, f[0]);
	return -1;
nomem:
	set_why(why, whylen, "out of memory");
	return -1;
}

int pc_trace_parse(const char *text, size_t len, pc_trace_t **out, char *why, size_t whylen)
{
	pc_trace_t *t = calloc(1, sizeof *t);
	fields_t fs = {0};
	char *line = NULL;
	size_t lineno = 0, pos = 0;
	int rc = -1;

	if (!t) {
		set_why(why, whylen, "out of memory");
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll;

		if (!nl)
			break; /* a torn last line */
		ll = (size_t)(nl - (text + pos));
		lineno++;
		free(line);
		line = malloc(ll + 1);
		if (!line) {
			set_why(why, whylen, "out of memory");
			goto out;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (memchr(line, '\0', ll)) {
			set_why(why, whylen, "trace line %zu: a NUL byte", lineno);
			goto out;
		}
		if (parse_line(t, line, &fs, why, whylen, lineno) < 0)
			goto out;
	}
	if (t->nfiles)
		qsort(t->files, t->nfiles, sizeof *t->files, cmp_files);
	if (t->ndirs)
		qsort(t->dirs, t->ndirs, sizeof *t->dirs, cmp_dirs);
	*out = t;
	t = NULL;
	rc = 0;
out:
	free(line);
	free(fs.f);
	pc_trace_free(t);
	return rc;
}

bool pc_trace_file_size(const pc_trace_t *t, pc_id_t id, uint64_t *size)
{
	size_t lo = 0, hi = t->nfiles;
	const pc_file_t *best = NULL;

	/* The first record of this inode number, then the last that matches:
	 * records of one inode are in (run, seq) order. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->files[mid].id.ino < id.ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < t->nfiles && t->files[i].id.ino == id.ino; i++)
		if (pc_id_match(t->files[i].id, id))
			best = &t->files[i];
	if (!best)
		return false;
	*size = best->size;
	return true;
}

const pc_dir_t *pc_trace_dir(const pc_trace_t *t, const char *path)
{
	size_t lo = 0, hi = t->ndirs;

	/* The first record after path's, then one back. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->dirs[mid].path, path) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || strcmp(t->dirs[lo - 1].path, path) != 0)
		return NULL;
	return &t->dirs[lo - 1];
}

/* ------------------------------------------------------------------------ */
/* The cut                                                                    */

typedef struct cut {
	const pc_trace_t *t;
	pc_counts_t counts;
	char *why;
	size_t whylen;
} cut_t;

static int id_of(int dirfd, const char *name, pc_id_t *id, struct statx *sx)
{
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW,
		  STATX_INO | STATX_BTIME | STATX_SIZE | STATX_TYPE, sx) < 0)
		return -1;
	id->ino = sx->stx_ino;
	id->birth = 0;
	if (sx->stx_mask & STATX_BTIME)
		id->birth = (uint64_t)sx->stx_btime.tv_sec * 1000000000u + sx->stx_btime.tv_nsec;
	return 0;
}

/* The names in the directory at path (without . and ..), malloc()ed. */
static char **list_names(const char *path, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof *nv);

			if (!nv)
				goto fail;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[*n] = strdup(e->d_name);
		if (!v[*n])
			goto fail;
		(*n)++;
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof *v);
	return v;
fail:
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	*n = 0;
	return NULL;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Removes path (a file, or a directory with everything in it). */
static int remove_tree(cut_t *c, const char *path)
{
	struct stat st;
	char **names;
	size_t n;
	int rc = 0;

	if (lstat(path, &st) < 0) {
		set_why(c->why, c->whylen, "lstat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0) {
			set_why(c->why, c->whylen, "unlink %s: %s", path, strerror(errno));
			return -1;
		}
		c->counts.files_removed++;
		if (S_ISREG(st.st_mode))
			c->counts.bytes_cut += (uint64_t)st.st_size;
		return 0;
	}
	names = list_names(path, &n);
	if (!names) {
		set_why(c->why, c->whylen, "cannot list %s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char sub[PATH_MAX];

		if (snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= (int)sizeof sub) {
			set_why(c->why, c->whylen, "path too long under %s", path);
			rc = -1;
			break;
		}
		rc = remove_tree(c, sub);
	}
	free_names(names, n);
	if (rc == 0 && rmdir(path) < 0) {
		set_why(c->why, c->whylen, "rmdir %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		c->counts.dirs_removed++;
	return rc;
}

/* Cuts the regular file at path (identity id, current length cur) to the
 * length its last fsync covered. */
static int cut_file(cut_t *c, const char *path, pc_id_t id, uint64_t cur)
{
	uint64_t keep = 0;

	pc_trace_file_size(c->t, id, &keep);
	if (keep >= cur)
		return 0;
	if (truncate(path, (off_t)keep) < 0) {
		set_why(c->why, c->whylen, "truncate %s: %s", path, strerror(errno));
		return -1;
	}
	c->counts.files_truncated++;
	c->counts.bytes_cut += cur - keep;
	return 0;
}

/* Cuts the directory at path (itself kept) to its last listing. */
static int cut_dir(cut_t *c, const char *path)
{
	const pc_dir_t *d = pc_trace_dir(c->t, path);
	struct statx sx;
	pc_id_t self;
	char **names;
	size_t n;
	int rc = 0, dfd;

	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || id_of(dfd, ".", &self, &sx) < 0) {
		set_why(c->why, c->whylen, "open %s: %s", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	/* A listing of an earlier directory at this path says nothing of this
	 * one: it was never fsynced, so nothing in it is durable. */
	if (d && !pc_id_match(d->id, self))
		d = NULL;
	names = list_names(path, &n);
	if (!names) {
		set_why(c->why, c->whylen, "cannot list %s: %s", path, strerror(errno));
		close(dfd);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const pc_entry_t *e = NULL;
		char sub[PATH_MAX];
		pc_id_t id;

		if (snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= (int)sizeof sub) {
			set_why(c->why, c->whylen, "path too long under %s", path);
			rc = -1;
			break;
		}
		if (id_of(dfd, names[i], &id, &sx) < 0) {
			set_why(c->why, c->whylen, "statx %s: %s", sub, strerror(errno));
			rc = -1;
			break;
		}
		for (size_t k = 0; d && k < d->nents && !e; k++)
			if (!strcmp(d->ents[k].name, names[i]))
				e = &d->ents[k];
		if (!e || (S_ISDIR(sx.stx_mode) && !pc_id_match(e->id, id)))
			rc = remove_tree(c, sub);
		else if (S_ISDIR(sx.stx_mode))
			rc = cut_dir(c, sub);
		else if (S_ISREG(sx.stx_mode))
			rc = cut_file(c, sub, id, sx.stx_size);
	}
	free_names(names, n);
	close(dfd);
	return rc;
}

static char *read_all(const char *path, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f) {
		set_why(why, whylen, "no trace at %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len + 65536 > cap) {
			char *nb = realloc(buf, cap + 65536 + cap);

			if (!nb) {
				set_why(why, whylen, "out of memory reading %s", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536 + cap;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		set_why(why, whylen, "reading %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	return buf;
}

int pc_cut_counted(const char *data_dir, const char *trace_path, pc_counts_t *counts, char *why,
		   size_t whylen)
{
	cut_t c = {.why = why, .whylen = whylen};
	pc_trace_t *t = NULL;
	char root[PATH_MAX];
	size_t len;
	char *text;
	int rc = -1;

	text = read_all(trace_path, &len, why, whylen);
	if (!text)
		return -1;
	if (pc_trace_parse(text, len, &t, why, whylen) < 0)
		goto out;
	if (pc_trace_runs(t) == 0) {
		set_why(why, whylen,
			"%s: no broker opened this trace (ternd built without "
			"-Dfault_injection=true, or TERN_TEST_DURABLE_LOG not passed?)",
			trace_path);
		goto out;
	}
	if (!realpath(data_dir, root)) {
		set_why(why, whylen, "%s: %s", data_dir, strerror(errno));
		goto out;
	}
	c.t = t;
	rc = cut_dir(&c, root);
	if (rc == 0 && counts)
		*counts = c.counts;
out:
	pc_trace_free(t);
	free(text);
	return rc;
}

int pc_cut(const char *data_dir, const char *trace_path, char *why, size_t whylen)
{
	return pc_cut_counted(data_dir, trace_path, NULL, why, whylen);
}
