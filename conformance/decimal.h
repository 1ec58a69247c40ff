/* decimal: amounts written as people read them. A double parsed from
 * "22.69" prints back as "22.69", and 22.69 - 22.68 as "0.01", not as the
 * binary noise "0.00999999999999979" that the double subtraction gives. */
#ifndef CONFORM_DECIMAL_H
#define CONFORM_DECIMAL_H

#include <stddef.h>

/* The longest text decimal_* write, with the sign and the NUL. */
#define DECIMAL_MAX 96

/* Writes into out (size n) the shortest decimal that reads back as v
 * (17 significant digits at most), in plain notation ("0.00000000003", not
 * "3e-11") when that fits, else in the %g form. Returns 0, or -1 when v is
 * not finite or out is too small ("?" is written then, when it fits). */
int decimal_shortest(double v, char *out, size_t n);
/* Writes into out (size n) the exact difference a - b of the shortest
 * decimals of a and b, in plain notation: the change between two amounts
 * as their texts state it. Returns 0, or -1 when either is not finite or
 * the difference needs more than DECIMAL_MAX digits (out then holds the
 * double difference, shortest). */
int decimal_sub(double a, double b, char *out, size_t n);

#endif
