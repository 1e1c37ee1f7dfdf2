#include "daemon/pdf_sandbox.h"
