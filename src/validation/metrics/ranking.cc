#include "validation/metrics/ranking.h"
