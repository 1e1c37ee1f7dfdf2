#include "workflow/rules.h"
