// Whether a message may be ours, judged from its header fields and its structure alone, before
// any of its content is read (docs/DECISIONS.md "The server's search is a hint"). The server's
// search is one judge; this is the other, so that a message the search misses (Exchange's
// search is undocumented, and new mail may not be searchable yet) is still read. Pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilskudd {

// `header_fields`: the raw header block of at least Subject, In-Reply-To and References.
// `file_params`: the attachments' name parameters as the server's BODYSTRUCTURE gives them,
// ("NAME" | "FILENAME" | "NAME*" | "FILENAME*..." upper-cased, value as sent: RFC 2047 or
// RFC 2231 encoded). Returns why the message may be ours ("the case number in the subject"),
// or "" when nothing in them says so.
std::string may_be_ours(std::string_view header_fields,
                        const std::vector<std::pair<std::string, std::string>>& file_params,
                        std::string_view case_number);

}  // namespace tilskudd
