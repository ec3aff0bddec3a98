// The little JSON writing gan.c does (metrics.jsonl, evaluation results): strings escaped.
#pragma once
#include <stdio.h>

// s as a JSON string, quotes included: '"', '\' and control characters escaped.
void gan_json_string(FILE *f, const char *s);
