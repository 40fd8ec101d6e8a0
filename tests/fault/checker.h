/* tests/fault/checker.h: the fault harness's checker (TESTING.md,
 * "Checker"): a history of what the workload did and saw, each event with a
 * monotonic time in ms, and the figures computed from it: acknowledged,
 * lost, duplicates, inconsistent offsets, non-monotonic reads, the longest
 * unavailability window, unclean elections and the times from a fault to
 * the next leader change, ISR shrink and ISR re-expansion.
 *
 * Pure: no I/O but formatting into a caller's buffer or FILE*, no threads,
 * no clock reads. Not thread-safe: a workload with several threads
 * serialises its appends (workload.h holds a mutex). Values are interned
 * (one copy of each distinct value), so memory is O(events + values).
 *
 * Definitions (each counted once per value or per position):
 *   acked: distinct values with at least one acknowledgement;
 *   lost: acked values no drain read returned (at any offset);
 *   duplicates: values read (by any session, drain included) at two or more
 *     distinct (partition, offset) positions;
 *   inconsistent_offsets: positions (partition, offset) where two different
 *     values were seen across all acknowledgements and reads, plus the
 *     acknowledged position of an acked value that reads returned only
 *     elsewhere (the acknowledgement named the wrong offset);
 *   nonmonotonic: reads at an offset at or below the highest offset the
 *     same session already read in that partition since its last seek;
 *   max_unavailable: the longest interval without an acknowledgement during
 *     which at least one attempt was outstanding (attempted, neither
 *     acknowledged nor failed yet); it opens at the later of the last
 *     acknowledgement and the attempt that made the outstanding count
 *     non-zero, and closes at the next acknowledgement, at the failure
 *     that left nothing outstanding, or at the history's last event;
 *   unclean_elections: CHK_MARK_UNCLEAN marks;
 *   leader_changes, isr_shrinks, isr_expands: their marks (an ISR that
 *     shrinks and grows back under a slow network is a flap);
 *   per fault (CHK_MARK_FAULT at t), looking only before the next fault
 *     mark: time to the first leader change and to the first ISR shrink at
 *     or after t; time from the first heal at or after t (t itself when
 *     none) to the first ISR expansion at or after that heal. */
#ifndef TERN_TESTS_FAULT_CHECKER_H
#define TERN_TESTS_FAULT_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/errors.h"

typedef enum chk_kind {
	CHK_NONE = 0, /* an event removed by chk_forget() */
	CHK_ATTEMPT,  /* value */
	CHK_ACK,      /* partition, offset, value */
	CHK_FAIL,     /* value, arg = the error */
	CHK_READ,     /* partition, offset, value, arg = session, drain */
	CHK_SEEK,     /* partition, offset (< 0: anywhere), arg = session */
	CHK_MARK,     /* arg = chk_mark_t */
} chk_kind_t;

/* What a scenario marks on the timeline. */
typedef enum chk_mark {
	CHK_MARK_FAULT = 1,  /* a fault starts */
	CHK_MARK_HEAL,	     /* it is healed */
	CHK_MARK_LEADER,     /* a leader changed */
	CHK_MARK_ISR_SHRINK, /* an ISR shrank */
	CHK_MARK_ISR_EXPAND, /* an ISR grew back */
	CHK_MARK_UNCLEAN,    /* an unclean election happened */
} chk_mark_t;

/* One event. Offsets are in [0, 2^40), partitions in [0, 2^23), sessions
 * >= 0 (the appends refuse others). */
typedef struct chk_event {
	int64_t t_ms;
	int64_t offset;
	uint32_t value; /* interned value id (chk_value()) */
	int32_t partition;
	int32_t arg; /* FAIL: tern_err_t; READ, SEEK: session; MARK: chk_mark_t */
	uint8_t kind;
	bool drain; /* READ: by the final drain */
} chk_event_t;

typedef struct chk_history chk_history_t;

/* NULL when out of memory. */
chk_history_t *chk_history_new(void);
void chk_history_free(chk_history_t *h);

/* Appends. Times need not be ordered (chk_analyse sorts, stably, so
 * events of one session keep their order among equal times). Errors:
 * TERN_ERR__NOMEM, TERN_ERR__INVALID_ARG (out-of-range numbers). */
tern_err_t chk_attempt(chk_history_t *h, int64_t t_ms, const char *value, size_t len);
tern_err_t chk_ack(chk_history_t *h, int64_t t_ms, int32_t partition, int64_t offset,
		   const char *value, size_t len);
tern_err_t chk_fail(chk_history_t *h, int64_t t_ms, const char *value, size_t len, tern_err_t err);
tern_err_t chk_read(chk_history_t *h, int64_t t_ms, int32_t session, bool drain, int32_t partition,
		    int64_t offset, const char *value, size_t len);
/* An explicit seek of session in partition: reads after it are checked
 * for monotonicity from offset on (offset < 0: from anywhere). */
tern_err_t chk_seek(chk_history_t *h, int64_t t_ms, int32_t session, int32_t partition,
		    int64_t offset);
tern_err_t chk_mark(chk_history_t *h, int64_t t_ms, chk_mark_t mark);

/* The events, in append order until chk_analyse() sorts them by time. */
size_t chk_nevents(const chk_history_t *h);
const chk_event_t *chk_event(const chk_history_t *h, size_t i);
/* Interned value id (NUL-terminated, borrowed from h; len may be NULL). */
const char *chk_value(const chk_history_t *h, uint32_t id, size_t *len);
/* Removes event i (it becomes CHK_NONE), for negative controls. */
void chk_forget(chk_history_t *h, size_t i);

#define CHK_MAX_FAULTS 32
#define CHK_EXAMPLE    160

/* One fault's times; -1 where the event never came. */
typedef struct chk_fault {
	int64_t t_ms;	   /* the fault mark */
	int64_t heal_ms;   /* the first heal at or after it (before the next fault) */
	int64_t elect_ms;  /* fault -> next leader change */
	int64_t shrink_ms; /* fault -> next ISR shrink */
	int64_t expand_ms; /* heal (or fault) -> next ISR expansion */
} chk_fault_t;

/* The figures of one history (definitions at the top). Times are in ms on
 * the history's clock; t0_ms is its first event. */
typedef struct chk_report {
	int64_t t0_ms, t1_ms; /* first and last event; 0 when empty */
	long events;
	long attempted, acked, failed, reads, drain_reads;
	long lost, duplicates, inconsistent_offsets, nonmonotonic, unclean_elections;
	long leader_changes, isr_shrinks, isr_expands;
	int64_t max_unavailable_ms;	  /* 0 when none */
	int64_t max_unavailable_start_ms; /* -1 when none */
	int nfaults;			  /* every fault; faults[] holds the first CHK_MAX_FAULTS */
	chk_fault_t faults[CHK_MAX_FAULTS];
	int64_t max_elect_ms, max_shrink_ms, max_expand_ms; /* over every fault; -1: none */
	/* The first instance of each violation, for the failure message. */
	char ex_lost[CHK_EXAMPLE];
	char ex_duplicate[CHK_EXAMPLE];
	char ex_inconsistent[CHK_EXAMPLE];
	char ex_nonmonotonic[CHK_EXAMPLE];
} chk_report_t;

/* Computes r from h (sorting h's events by time first, stably).
 * TERN_ERR__NOMEM, with r untouched. */
tern_err_t chk_analyse(chk_history_t *h, chk_report_t *r);

/* Which figures a run must hold: each flag set means that figure must be
 * 0; min_acked: at least that many acknowledged. */
typedef struct chk_criteria {
	bool lost, duplicates, inconsistent_offsets, nonmonotonic, unclean_elections;
	long min_acked;
} chk_criteria_t;

/* Every figure 0 and at least one acknowledgement. */
chk_criteria_t chk_criteria_strict(void);

/* Whether r meets c; when not, why lists every figure that failed (with
 * its first example). */
bool chk_passes(const chk_report_t *r, const chk_criteria_t *c, char *why, size_t whylen);

/* One JSON line (no newline): acked, lost, duplicates,
 * inconsistent_offsets, nonmonotonic, unclean_elections,
 * max_unavailable_s, max_unavailable_start_s (since t0), time_to_elect_s,
 * time_to_shrink_s, time_to_expand_s (maxima over the faults, -1: none),
 * faults, attempted, failed, reads, drain_reads, events, and with c
 * non-NULL "pass". snprintf's contract: returns the length it needed. */
int chk_json(const chk_report_t *r, const chk_criteria_t *c, char *buf, size_t len);
/* A few lines for humans, likewise into buf. */
int chk_summary(const chk_report_t *r, char *buf, size_t len);
/* The summary then the JSON line, to f; -1 when writing failed. */
int chk_print(const chk_report_t *r, const chk_criteria_t *c, FILE *f);

#endif
