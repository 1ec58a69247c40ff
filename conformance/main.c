/* nexus-conform: certifies that a base URL is an OpenAI-compatible chat API
 * (all the work is in the nexus_conform library, see operate.c). */
#include "operate.h"

/* Runs nexus-conform. */
int main(int argc, char *argv[])
{
    return operate_main(argc, argv);
}
