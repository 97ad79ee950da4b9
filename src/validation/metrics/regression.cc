#include "validation/metrics/regression.h"
