/* cli_out — JSON and text renderings of domain objects for the CLI. */
#ifndef CLI_OUT_H
#define CLI_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "model.h"
#include "service.h"

json_t *cli_json_person(const person *p);
json_t *cli_json_affiliation(const affiliation *a);
json_t *cli_json_account(const account *a);
json_t *cli_json_unit(const org_unit *u);
json_t *cli_json_person_view(const svc_person_view *v);
/* Print and release o (one JSON document and a newline). */
void cli_print_json(json_t *o);

void cli_text_person_view(FILE *f, const svc_person_view *v);
void cli_text_person_line(FILE *f, const person *p);
void cli_text_account(FILE *f, const account *a);
void cli_text_affiliation(FILE *f, const affiliation *af);

#endif
