/* controller/store.c: the embedded metadata store (metadata.store=embedded):
 * the controller's state as one file in its data directory, replaced
 * atomically and durably on every change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/controller_int.h"
#include "log/log.h"

typedef struct file_store {
	ctl_store_t ops;
	char *path;
} file_store_t;

static tern_err_t file_load(ctl_store_t *s, char **text, size_t *len, char *errstr, size_t errlen)
{
	file_store_t *fs = (file_store_t *)s;
	FILE *f = fopen(fs->path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	*text = NULL;
	*len = 0;
	if (!f) {
		if (errno == ENOENT)
			return TERN_OK;
		snprintf(errstr, errlen, "%s: %s", fs->path, strerror(errno));
		return tern_err_errno(errno);
	}
	do {
		if (cap - n < 4096) {
			char *v = realloc(buf, cap ? cap * 2 : 8192);

			if (!v) {
				free(buf);
				fclose(f);
				return TERN_ERR__NOMEM;
			}
			buf = v;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		snprintf(errstr, errlen, "%s: read error", fs->path);
		free(buf);
		fclose(f);
		return TERN_ERR__CORRUPT;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return TERN_OK;
}

static tern_err_t file_save(ctl_store_t *s, const char *text, size_t len)
{
	return log_durable_replace(((file_store_t *)s)->path, text, len);
}

static void file_close(ctl_store_t *s)
{
	file_store_t *fs = (file_store_t *)s;

	free(fs->path);
	free(fs);
}

tern_err_t ctl_store_file_new(const char *path, ctl_store_t **out)
{
	file_store_t *fs = calloc(1, sizeof *fs);

	if (!fs)
		return TERN_ERR__NOMEM;
	fs->path = strdup(path);
	if (!fs->path) {
		free(fs);
		return TERN_ERR__NOMEM;
	}
	fs->ops.load = file_load;
	fs->ops.save = file_save;
	fs->ops.close = file_close;
	*out = &fs->ops;
	return TERN_OK;
}
