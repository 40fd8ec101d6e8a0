/* tern-config-doc: prints docs/configuration.md from the configuration
 * tables, to stdout or, given a path, into that file (`ninja config-doc`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"

int main(int argc, char **argv)
{
	const char *path = argc == 2 ? argv[1] : NULL;
	FILE *f = stdout;
	char *doc = NULL;
	tern_err_t err;
	int rc = 1;

	if (argc > 2) {
		fprintf(stderr, "usage: tern-config-doc [OUTPUT]\n");
		return 2;
	}
	err = broker_config_doc(&doc);
	if (err) {
		fprintf(stderr, "tern-config-doc: %s\n", tern_strerror(err));
		return 1;
	}
	if (path && !(f = fopen(path, "w"))) {
		fprintf(stderr, "tern-config-doc: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fputs(doc, f) == EOF || fflush(f) != 0 || ferror(f)) {
		fprintf(stderr, "tern-config-doc: %s: %s\n", path ? path : "stdout",
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (path && f && fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "tern-config-doc: %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	free(doc);
	return rc;
}
