#include "validation/metrics/classification.h"
