// Where an installed tilskudd finds the files it ships with (the letter templates), so that the
// daemon, the admin commands and `tilskudd config check` all look in the same place.
#pragma once

#include <string>

#include "config/config.h"

namespace tilskudd {

// The folder of the letter templates: [letters] templates_dir when set; else the built-in
// default (CMake's TILSKUDD_TEMPLATES_DIR: the source tree's config/templates for a build-tree
// binary, /usr/share/tilskudd/templates for the Debian package); else, when that folder does
// not exist, the one next to the running binary (<prefix>/bin/tilskudd ->
// <prefix>/share/tilskudd/templates), for an install under another prefix.
std::string letter_templates_dir(const config::Config& config);

}  // namespace tilskudd
