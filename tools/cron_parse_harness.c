/* Read crontab lines on stdin with Debian cron's own load_entry() and print, per line, whether
 * cron accepts it and the values it sets in each field (and its *_STAR flags, which decide how
 * the two day fields combine). Compiled by tools/record_cron_verdicts.py against the source of
 * Debian's cron package (apt-get source cron); nothing here runs a job.
 *
 * One line per entry: "ACCEPTED minute=0,30 hour=6 dom=1,...,31 month=1,...,12 dow=1,...,5
 * flags=DOM_STAR," or "REFUSED <cron's error text>". */
#define MAIN_PROGRAM
#include "cron.h"

static char *last_error = NULL;

static void on_error(char *message) { last_error = message; }

static void print_bits(const char *name, bitstr_t *bits, int low, int high) {
	int value, first = 1;
	printf(" %s=", name);
	for (value = low; value <= high; value++)
		if (bit_test(bits, value - low)) {
			printf(first ? "%d" : ",%d", value);
			first = 0;
		}
}

int main(void) {
	char *envp[] = { NULL };
	struct passwd *pw = getpwuid(getuid());
	entry *e;

	ProgramName = "cron_parse_harness";
	last_error = NULL;
	e = load_entry(stdin, on_error, pw, envp);
	if (e == NULL) {
		printf("REFUSED %s\n", last_error ? last_error : "(no entry)");
		return 0;
	}
	printf("ACCEPTED");
	print_bits("minute", e->minute, FIRST_MINUTE, LAST_MINUTE);
	print_bits("hour", e->hour, FIRST_HOUR, LAST_HOUR);
	print_bits("dom", e->dom, FIRST_DOM, LAST_DOM);
	print_bits("month", e->month, FIRST_MONTH, LAST_MONTH);
	print_bits("dow", e->dow, FIRST_DOW, LAST_DOW);
	printf(" flags=%s%s%s%s%s\n",
	       e->flags & MIN_STAR ? "MIN_STAR," : "", e->flags & HR_STAR ? "HR_STAR," : "",
	       e->flags & DOM_STAR ? "DOM_STAR," : "", e->flags & DOW_STAR ? "DOW_STAR," : "",
	       e->flags & WHEN_REBOOT ? "REBOOT," : "");
	return 0;
}
