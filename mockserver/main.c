/* main: the nexus-mock executable; everything else is in the library. */
#include "mock.h"

int main(int argc, char **argv)
{
    return mock_main(argc, argv);
}
