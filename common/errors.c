/* The text, name and retry class of every tern_err_t, from the one table in
 * tern/errors.h. */
#include <string.h>

#include "tern/errors.h"

const char *tern_strerror(tern_err_t err)
{
	int e = tern_err_to_errno(err);

	if (e)
		return strerror(e);
	switch (err) {
#define TERN__ERR_TEXT(name, code, retriable, text)                                                \
	case TERN_ERR_##name:                                                                      \
		return text;
		TERN_ERRORS(TERN__ERR_TEXT)
#undef TERN__ERR_TEXT
	default:
		return "Unknown error code";
	}
}

const char *tern_err_name(tern_err_t err)
{
	if (tern_err_to_errno(err))
		return "ERRNO";
	switch (err) {
#define TERN__ERR_NAME(name, code, retriable, text)                                                \
	case TERN_ERR_##name:                                                                      \
		return #name;
		TERN_ERRORS(TERN__ERR_NAME)
#undef TERN__ERR_NAME
	default:
		return "UNKNOWN";
	}
}

int tern_err_is_retriable(tern_err_t err)
{
	switch (err) {
#define TERN__ERR_RETRY(name, code, retriable, text)                                               \
	case TERN_ERR_##name:                                                                      \
		return retriable;
		TERN_ERRORS(TERN__ERR_RETRY)
#undef TERN__ERR_RETRY
	default:
		return 0;
	}
}
