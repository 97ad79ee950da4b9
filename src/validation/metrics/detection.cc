#include "validation/metrics/detection.h"
