/* date — calendar dates as day numbers (proleptic Gregorian, no time zone).
 *
 * A tn_date counts days since 1970-01-01, so "valid_to + N days" is integer
 * addition and comparisons are plain integer comparisons. TN_DATE_NONE
 * stands for "no date" (an open-ended valid_to, no death date). Pure: no
 * clock is read here; "today" is always a parameter. */
#ifndef DATE_H
#define DATE_H

#include <stdbool.h>
#include <stdint.h>

#include "tn_err.h"

typedef int32_t tn_date;
#define TN_DATE_NONE INT32_MIN
#define DATE_ISO_LEN 11 /* "YYYY-MM-DD" + NUL */

bool date_is_leap(int year);
int date_days_in_month(int year, int month);
bool date_valid_ymd(int year, int month, int day);
/* Day number of a valid y-m-d; the result is undefined for invalid input. */
tn_date date_from_ymd(int year, int month, int day);
void date_to_ymd(tn_date d, int *year, int *month, int *day);
/* Strict ISO 8601 calendar date "YYYY-MM-DD", years 1800..2999, and the
 * date must exist. field names the input in the error. */
tn_code date_parse_iso(const char *s, tn_date *out, const char *field, tn_err *e);
/* Like date_parse_iso, but the empty string (or NULL) gives TN_DATE_NONE. */
tn_code date_parse_iso_opt(const char *s, tn_date *out, const char *field, tn_err *e);
/* Write "YYYY-MM-DD" into out (DATE_ISO_LEN bytes); "" for TN_DATE_NONE. */
char *date_format(tn_date d, char out[DATE_ISO_LEN]);

#endif
