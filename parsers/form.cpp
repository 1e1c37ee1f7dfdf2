#include "parsers/form.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>

#include "parsers/amount.h"
#include "parsers/ids.h"
#include "parsers/text.h"

namespace tilskudd {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

// Lower-case words of `s`: punctuation, hyphens and dashes become spaces.
std::string words_of(std::string_view s) {
  return " " + text::name_key(s) + " ";
}

// Lower-case letters and digits only: "Barnehage-lærer utdanning" -> "barnehagelærerutdanning".
std::string squeezed(std::string_view s) {
  std::string k = text::name_key(s);
  k.erase(std::remove(k.begin(), k.end(), ' '), k.end());
  return k;
}

bool has_word(const std::string& words, std::string_view w) {
  return words.find(" " + std::string(w) + " ") != std::string::npos;
}

}  // namespace

Programme parse_programme(std::string_view text) {
  if (text.size() > 1000) text = text.substr(0, 1000);
  std::string w = words_of(text);
  std::string sq = squeezed(text);
  if (has_word(w, "ablu") || sq.find("arbeidsplassbasertbarnehagelærer") != std::string::npos ||
      sq.find("arbeidsplassbasertblu") != std::string::npos)
    return Programme::ABLU;
  // Other programmes that mention kindergarten teachers ("Videreutdanning for barnehagelærere,
  // deltid", "Master ... deltid") are not the part-time kindergarten teacher education.
  for (std::string_view other : {"videreutdanning", "master", "fagskole", "pfb",
                                 "tilleggsutdanning", "heltid", "etterutdanning"})
    if (sq.find(other) != std::string::npos) return Programme::OTHER;
  bool deltid = w.find(" deltid") != std::string::npos;  // "deltid", "deltidsstudium"
  bool blu = has_word(w, "blu") || sq.find("barnehagelærerutdanning") != std::string::npos ||
             sq.find("barnehagelærer") != std::string::npos;
  if ((deltid && blu) || sq == "bludeltid") return Programme::BLU_DELTID;
  return Programme::OTHER;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Labelled fields.

enum class Field { owner, org, kindergarten, contact, email, account, reference, case_number };

struct LabelVariant {
  std::string_view letters;  // the label's letters, lower case, without punctuation or spaces
  Field field;
};

// Spellings people use for the form's labels (docs/CONTRACT.md §1), compared letter by letter while
// skipping '.', ' ', '-' and '_' in the text ("Org. nr.", "E-post", "Kontonr.").
constexpr LabelVariant kLabels[] = {
    {"barnehageeier", Field::owner},
    {"navnpåbarnehageeier", Field::owner},
    {"barnehageeiersnavn", Field::owner},
    {"organisasjonsnummer", Field::org},
    {"organisasjonsnr", Field::org},
    {"orgnummer", Field::org},
    {"orgnr", Field::org},
    {"barnehage", Field::kindergarten},
    {"barnehagensnavn", Field::kindergarten},
    {"navnpåbarnehagen", Field::kindergarten},
    {"navnpåbarnehage", Field::kindergarten},
    {"kontaktperson", Field::contact},
    {"epost", Field::email},
    {"epostadresse", Field::email},
    {"email", Field::email},
    {"emailadresse", Field::email},
    {"kontonummer", Field::account},
    {"kontonr", Field::account},
    {"bankkontonummer", Field::account},
    {"bankkonto", Field::account},
    {"deresreferanse", Field::reference},
    {"deresref", Field::reference},
    {"saksnummer", Field::case_number},
    {"saksnr", Field::case_number},
};

bool is_label_skip(char c) {
  return c == '.' || c == ' ' || c == '-' || c == '_';
}

struct LabelMatch {
  Field field;
  size_t end;  // in the line, just after the label (and a trailing '.')
};

// The longest label at the start of `lower` (a lower-cased line), followed by a non-letter.
std::optional<LabelMatch> match_label(std::string_view lower) {
  std::optional<LabelMatch> best;
  for (const auto& v : kLabels) {
    size_t li = 0;
    bool ok = true;
    for (size_t k = 0; k < v.letters.size(); ++k) {
      if (k > 0)
        while (li < lower.size() && is_label_skip(lower[li])) ++li;
      if (li >= lower.size() || lower[li] != v.letters[k]) {
        ok = false;
        break;
      }
      ++li;
    }
    if (!ok) continue;
    if (li < lower.size() && (is_word_byte(lower[li]) || is_digit(lower[li]))) continue;
    if (li < lower.size() && lower[li] == '.') ++li;
    if (!best || li > best->end) best = LabelMatch{v.field, li};
  }
  return best;
}

bool is_value_sep(char c) {
  return c == ' ' || c == '\t' || c == ':' || c == '|' || c == '=';
}

// The value after a label: separators skipped, cut before a second label in another column
// ("Barnehageeier: Sol AS      Org.nr.: 987 654 325" or "Barnehageeier | Sol AS | Org.nr. | ...").
std::string label_value(std::string_view line, std::string_view lower, size_t start,
                        std::string_view* rest) {
  size_t i = start;
  while (i < line.size() && is_value_sep(line[i])) ++i;
  size_t v0 = i;
  size_t v1 = line.size();
  for (size_t j = v0; j < line.size(); ++j) {
    size_t gap_end = 0;
    bool strong = false;  // '|' or tab: any label after it starts a new field
    if (line[j] == '|' || line[j] == '\t') {
      strong = true;
      gap_end = j + 1;
    } else if (line[j] == ' ') {
      gap_end = j + 1;  // a label after a space needs its colon ("Kari E-post: kari@...")
    } else {
      continue;
    }
    while (gap_end < line.size() &&
           (line[gap_end] == ' ' || line[gap_end] == '\t' || line[gap_end] == '|'))
      ++gap_end;
    if (gap_end >= line.size()) break;
    auto m = match_label(lower.substr(gap_end));
    if (!m) continue;
    size_t after = gap_end + m->end;
    while (after < line.size() && line[after] == ' ') ++after;
    if (strong || (after < line.size() && line[after] == ':')) {
      v1 = j;
      if (rest) *rest = line.substr(gap_end);
      break;
    }
  }
  std::string v = text::collapse_spaces(line.substr(v0, v1 - v0));
  while (!v.empty() && (v.back() == '|' || v.back() == ' ')) v.pop_back();
  return v;
}

// ---------------------------------------------------------------------------------------------
// The employee table.

enum class Column { employee, programme, place, cost, state, ignored };

struct Cell {
  std::string text;  // trimmed
  size_t start = 0;  // in code points, for pdftotext -layout alignment
  size_t end = 0;
};

enum class Split { none, pipe, tab, semicolon, spaces };

Split split_kind(std::string_view line) {
  if (line.find('|') != std::string_view::npos) return Split::pipe;
  if (line.find('\t') != std::string_view::npos) return Split::tab;
  if (line.find(';') != std::string_view::npos) return Split::semicolon;
  if (line.find("  ") != std::string_view::npos) return Split::spaces;
  return Split::none;
}

std::vector<Cell> split_cells(std::string_view line) {
  std::vector<Cell> cells;
  Split kind = split_kind(line);
  // Code point offset of every byte offset, computed once (linear in the line).
  std::vector<size_t> cp(line.size() + 1, 0);
  for (size_t i = 0; i < line.size(); ++i)
    cp[i + 1] = cp[i] + ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 ? 1 : 0);
  auto add = [&](size_t b, size_t e) {
    std::string_view raw = line.substr(b, e - b);
    std::string_view t = text::trim(raw);
    size_t tb = t.empty() ? b : static_cast<size_t>(t.data() - line.data());
    cells.push_back(Cell{text::collapse_spaces(t), cp[tb], cp[tb + t.size()]});
  };
  if (kind == Split::none) {
    add(0, line.size());
    return cells;
  }
  if (kind == Split::spaces) {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      if (i >= line.size()) break;
      size_t b = i;
      while (i < line.size() && !(line[i] == ' ' && i + 1 < line.size() && line[i + 1] == ' ')) ++i;
      add(b, i);
    }
    return cells;
  }
  char sep = kind == Split::pipe ? '|' : kind == Split::tab ? '\t' : ';';
  size_t b = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == sep) {
      add(b, i);
      b = i + 1;
    }
  }
  // "| a | b |" (markdown, some HTML renderings): the outer bars make empty cells at both
  // ends. A bar at one end only is an empty first or last cell (" | ABLU | ..." has no name).
  std::string_view t = text::trim(line);
  if (kind == Split::pipe && t.size() >= 2 && t.front() == '|' && t.back() == '|' &&
      cells.size() >= 2) {
    cells.erase(cells.begin());
    cells.pop_back();
  }
  return cells;
}

Column column_of(std::string_view header_cell) {
  std::string h = text::to_lower(header_cell);
  auto has = [&](std::string_view w) { return h.find(w) != std::string::npos; };
  // The municipality's own share is not the state's answer ("Søkt tilskudd fra kommunen").
  if (has("kommun")) return Column::ignored;
  if (has("statsforvalter") || has("fylkesmann") || has("statlig") || has("tilskudd") ||
      has("staten"))
    return Column::state;
  if (has("studiested") || has("lærested") || has("studiestad") || has("institusjon") ||
      has("skole") || h == "sted")
    return Column::place;
  if (has("kostnad") || has("utgift") || has("pris")) return Column::cost;
  if (has("navn") || has("ansatt") || has("student") || has("arbeidstaker"))
    return Column::employee;
  if (has("utdanning") || has("studium") || has("program") || has("studie"))
    return Column::programme;
  return Column::ignored;
}

struct Header {
  std::vector<Column> columns;
  std::vector<Cell> cells;
  Split kind = Split::none;
  // A state letter's own table ("Ansatt | Utdanning | Søkt | Tildelt"): no cost column, a
  // column of what was applied for or granted, and none naming the state as the form's last
  // column does. Its rows are never the form's (DECISIONS.md "Form or letter").
  bool letter = false;
};

std::optional<Header> read_header(std::string_view line) {
  // The form's table has five columns; a few more are tolerated (a row number, comments).
  if (std::count(line.begin(), line.end(), '|') > 16) return std::nullopt;
  auto cells = split_cells(line);
  if (cells.size() < 3 || cells.size() > 16) return std::nullopt;
  Header h;
  h.kind = split_kind(line);
  int employee = 0, known = 0;
  for (const auto& c : cells) {
    // Header cells are short words, not data.
    Column col = c.text.size() <= 60 && !parse_amount(c.text) ? column_of(c.text) : Column::ignored;
    if (col == Column::employee) ++employee;
    if (col != Column::ignored && col != Column::employee) ++known;
    h.columns.push_back(col);
  }
  if (employee != 1) return std::nullopt;
  bool cost = std::find(h.columns.begin(), h.columns.end(), Column::cost) != h.columns.end();
  bool decided = false, state = false, digits = false;
  for (const auto& c : cells) {
    if (std::any_of(c.text.begin(), c.text.end(), is_digit)) digits = true;
    std::string l = text::to_lower(c.text);
    for (std::string_view w :
         {"tildelt", "søkt", "vedtak", "innvilget beløp", "innvilget tilskudd", "bevilget"})
      if (l.find(w) != std::string::npos) decided = true;
    if (l.find("statsforvalter") != std::string::npos || l.find("fylkesmann") != std::string::npos)
      state = true;
  }
  // A header is words: a row with digits or an answer in a cell ("avslag") is data.
  h.letter = !cost && decided && !state && !digits;
  if (known < 2 && !h.letter) return std::nullopt;
  h.cells = std::move(cells);
  return h;
}

bool is_rule_line(std::string_view line) {
  bool any = false;
  for (char c : line) {
    if (c == '-' || c == '=' || c == '+' || c == '|' || c == '_') any = true;
    if (!(c == '-' || c == '=' || c == '+' || c == '|' || c == ' ' || c == ':' || c == '\t' ||
          c == '_'))
      return false;
  }
  return any;
}

bool is_signature(std::string_view trimmed) {
  std::string l = text::to_lower(trimmed);
  return trimmed == "--" || trimmed == "-- " || l.rfind("med vennlig hilsen", 0) == 0 ||
         l.rfind("vennlig hilsen", 0) == 0 || l.rfind("mvh", 0) == 0 || l.rfind("hilsen", 0) == 0 ||
         l.rfind("best regards", 0) == 0 || l.rfind("kind regards", 0) == 0;
}

// An Outlook-style separator: what follows is the quoted original message.
bool is_original_message_marker(std::string_view trimmed) {
  std::string l = text::to_lower(trimmed);
  return l.find("-----original message-----") != std::string::npos ||
         l.find("-----opprinnelig melding-----") != std::string::npos;
}

// Cells that are totals rather than an employee ("Sum", "Totalt").
bool is_total_row(std::string_view name) {
  std::string l = text::to_lower(name);
  while (!l.empty() && (l.back() == ':' || l.back() == '.')) l.pop_back();
  return l == "sum" || l == "totalt" || l == "total" || l == "sum totalt" || l == "til sammen";
}

// The form's own order when there is no header.
constexpr std::array<Column, 5> kFormOrder = {Column::employee, Column::programme, Column::place,
                                              Column::cost, Column::state};

// Maps the cells of a data row to columns. Returns false when they cannot be mapped.
bool map_row(const std::vector<Cell>& cells, const Header* header, Split row_kind,
             std::vector<Column>& out) {
  out.clear();
  if (header) {
    if (cells.size() == header->columns.size()) {
      out = header->columns;
      return true;
    }
    // pdftotext -layout drops empty cells: place each cell under the header column it
    // overlaps most (columns are aligned in code points).
    if (row_kind == Split::spaces && header->kind == Split::spaces &&
        cells.size() < header->columns.size()) {
      const auto& hc = header->cells;
      std::vector<bool> used(hc.size(), false);
      for (const auto& c : cells) {
        size_t best = hc.size();
        long best_overlap = -1000000;
        for (size_t k = 0; k < hc.size(); ++k) {
          long col_start = static_cast<long>(hc[k].start);
          long col_end = k + 1 < hc.size() ? static_cast<long>(hc[k + 1].start) : 1000000L;
          long overlap = std::min<long>(col_end, static_cast<long>(c.end)) -
                         std::max<long>(col_start, static_cast<long>(c.start));
          if (overlap > best_overlap && !used[k]) {
            best_overlap = overlap;
            best = k;
          }
        }
        if (best == hc.size()) return false;
        used[best] = true;
        out.push_back(header->columns[best]);
      }
      // Columns must stay in order.
      return true;
    }
    // Trailing empty state cell left out ("Ola | ABLU | OsloMet | 95 000").
    if (cells.size() + 1 == header->columns.size() && header->columns.back() == Column::state) {
      out.assign(header->columns.begin(), header->columns.end() - 1);
      return true;
    }
    return false;
  }
  if (cells.size() == 5) {
    out.assign(kFormOrder.begin(), kFormOrder.end());
    return true;
  }
  if (cells.size() == 4) {
    // Either the study place or the state answer is missing: an amount in the third cell
    // means the place is.
    if (parse_amount(cells[2].text))
      out = {Column::employee, Column::programme, Column::cost, Column::state};
    else
      out = {Column::employee, Column::programme, Column::place, Column::cost};
    return true;
  }
  return false;
}

StateStatus parse_state(std::string_view cell, std::optional<Kroner>& grant) {
  grant.reset();
  std::string l = text::to_lower(text::collapse_spaces(cell));
  if (l.empty() || l == "-" || l == "--" || l == "?") return StateStatus::unknown;
  auto has = [&](std::string_view w) { return l.find(w) != std::string::npos; };
  if (has("avslag") || has("avslått") || has("avslatt") || has("avvist") || has("ikke innvilget") ||
      has("ikke tildelt") || has("fikk ikke"))
    return StateStatus::rejected;
  if (has("ikke mottatt") || has("venter") || has("søkt") || has("ukjent") || has("ikke svar"))
    return StateStatus::unknown;
  // Strip words around an amount: "innvilget 40 000", "40 000 (innvilget)", "tildelt: kr 40 000".
  bool said_granted = has("innvilget") || has("innvilga") || has("tildelt") || has("tilsagn");
  std::string stripped;
  {
    std::string t = l;
    for (std::string_view w : {"innvilget", "innvilga", "tildelt", "tilsagn"}) {
      size_t p;
      while ((p = t.find(w)) != std::string::npos) t.replace(p, w.size(), " ");
    }
    for (char& c : t)
      if (c == '(' || c == ')' || c == ':') c = ' ';
    stripped = text::collapse_spaces(t);
  }
  if (auto a = parse_amount(stripped)) {
    if (*a == 0) return StateStatus::rejected;
    grant = *a;
    return StateStatus::granted;
  }
  if (said_granted && stripped.empty()) return StateStatus::granted;
  if (said_granted) return StateStatus::granted;
  return StateStatus::unknown;
}

bool looks_like_name(std::string_view s) {
  bool letter = false;
  for (char c : s) {
    if (is_word_byte(c)) letter = true;
  }
  return letter && !parse_amount(s);
}

std::string extract_email(std::string_view value) {
  size_t at = value.find('@');
  if (at == std::string_view::npos) return {};
  auto ok = [](char c) {
    return is_word_byte(c) || is_digit(c) || c == '.' || c == '-' || c == '_' || c == '+' ||
           c == '\'';
  };
  size_t b = at, e = at + 1;
  while (b > 0 && ok(value[b - 1])) --b;
  while (e < value.size() && ok(value[e])) ++e;
  std::string addr(value.substr(b, e - b));
  while (!addr.empty() && addr.back() == '.') addr.pop_back();
  if (addr.front() == '@' || addr.back() == '@' ||
      addr.find('.', addr.find('@')) == std::string::npos)
    return {};
  return addr;
}

struct FormBuilder {
  Form form;
  int labelled = 0;
  bool header_seen = false;
  int form_labels = 0;  // labels only the form has (owner, kindergarten, contact, account)
  int header_rows = 0;
  int headerless_rows = 0;

  void set_field(Field f, const std::string& value) {
    if (value.empty()) return;
    std::string* target = nullptr;
    std::string v = value;
    switch (f) {
      case Field::owner:
        target = &form.owner;
        break;
      case Field::org:
        target = &form.org_number;
        v = digits_only(value);
        break;
      case Field::kindergarten:
        target = &form.kindergarten;
        break;
      case Field::contact:
        target = &form.contact;
        break;
      case Field::email:
        target = &form.contact_email;
        v = extract_email(value);
        break;
      case Field::account:
        target = &form.account_number;
        v = digits_only(value);
        break;
      case Field::reference:
        target = &form.reference;
        break;
      case Field::case_number:
        target = &form.case_number;
        break;
    }
    if (v.empty() || !target->empty()) return;  // the first occurrence wins
    *target = v;
    ++labelled;
    if (f == Field::owner || f == Field::kindergarten || f == Field::contact || f == Field::account)
      ++form_labels;
  }
};

// Most bytes of one line the form reader looks at: a longer line is no label and no row of the
// form (a table row longer than this is reported as unreadable, never read in part).
constexpr size_t kMaxLineBytes = 4000;

// Whether one more table row (at text line `ln`) would pass limits.max_lines; then records the
// limit in the form.
bool over_row_limit(Form& form, const FormLimits& limits, int rows, size_t ln) {
  if (static_cast<size_t>(rows) < limits.max_lines) return false;
  form.limit = LimitHit{"max_form_lines", static_cast<std::int64_t>(limits.max_lines),
                        "the form has more than " + std::to_string(limits.max_lines) +
                            " employee lines (row " + std::to_string(rows + 1) + " is at line " +
                            std::to_string(ln + 1) + " of the text)"};
  return true;
}

}  // namespace

Form parse_form(std::string_view input, const FormLimits& limits) {
  FormBuilder b;
  std::string norm = text::normalize_spaces(input);
  auto raw_lines = text::split_lines(norm);

  std::optional<Header> header;
  bool in_table = false;
  bool blank_in_table = false;
  bool in_letter_table = false;        // inside a state letter's own table (Header::letter)
  std::optional<Field> pending_label;  // a label alone on its line: the value is on the next
  int row_number = 0;
  int rows_since_header = 0;
  size_t last_row_line = static_cast<size_t>(-2);  // the line of the last data row
  std::vector<Column> cols;

  for (size_t ln = 0; ln < raw_lines.size(); ++ln) {
    if (limits.budget && limits.budget->spent()) {
      b.form.limit = LimitHit{"message_cpu_seconds", limits.budget->limit_ns() / 1'000'000'000,
                              "reading the form stopped at line " + std::to_string(ln + 1) +
                                  " of " + std::to_string(raw_lines.size())};
      break;
    }
    std::string_view line = raw_lines[ln];
    if (line.size() > kMaxLineBytes) {
      if (in_table) {
        if (over_row_limit(b.form, limits, row_number, ln)) break;
        ++row_number;
        b.form.unreadable_rows.push_back("row " + std::to_string(row_number) + " (line " +
                                         std::to_string(ln + 1) + "): longer than " +
                                         std::to_string(kMaxLineBytes) + " bytes, not read");
      }
      continue;
    }
    std::string_view t = text::trim(line);
    // Quoted reply text is not the form.
    if (!t.empty() && t.front() == '>') continue;
    if (is_original_message_marker(t)) break;
    if (t.empty()) {
      in_letter_table = false;
      if (in_table) blank_in_table = true;
      pending_label.reset();
      continue;
    }
    if (is_rule_line(t)) continue;
    if (is_signature(t)) {
      in_table = false;
      pending_label.reset();
      continue;
    }
    // Strip the outer bar of an HTML-rendered or markdown row.
    std::string_view body = t;
    if (body.front() == '|') body = text::trim(body.substr(1));
    std::string lower = text::to_lower(body);

    // Cells keep their columns (in code points) for pdftotext -layout alignment, so they are
    // split from the line with its indentation.
    std::string_view untrimmed = line;
    while (!untrimmed.empty() && text::trim(untrimmed.substr(untrimmed.size() - 1)).empty())
      untrimmed.remove_suffix(1);
    Split kind = split_kind(t);

    // A header row starts (or restarts) the table; a letter's table is skipped to its end.
    auto h = read_header(untrimmed);
    // Inside the form's table a row without digits ("Per | ABLU | USN | tildelt") is a row.
    if (h && h->letter && in_table) h.reset();
    if (h) {
      if (h->letter) {
        in_letter_table = true;
        in_table = false;
        header.reset();
        pending_label.reset();
        continue;
      }
      in_letter_table = false;
      header = std::move(h);
      in_table = true;
      blank_in_table = false;
      rows_since_header = 0;
      b.header_seen = true;
      pending_label.reset();
      continue;
    }

    auto cells = split_cells(untrimmed);
    if (in_letter_table) {
      if (cells.size() >= 2) continue;
      in_letter_table = false;
    }
    const Header* hp = in_table ? &*header : nullptr;

    // A layout header wrapped over two lines ("Tilskudd fra" / "Statsforvalteren").
    if (hp && rows_since_header == 0 && !blank_in_table && cells.size() <= 2 &&
        hp->kind == Split::spaces && kind != Split::pipe && !match_label(lower) &&
        column_of(cells.front().text) != Column::ignored) {
      continue;
    }
    // A layout cell wrapped onto the next line: nothing in the name column, the text under
    // other columns belongs to the row above ("Arbeidsplassbasert" / "barnehagelærerutdanning").
    if (hp && hp->kind == Split::spaces && kind != Split::pipe && kind != Split::tab &&
        kind != Split::semicolon && last_row_line + 1 == ln && !b.form.lines.empty() &&
        hp->cells.size() >= 2 && cells.front().start + 1 >= hp->cells[1].start &&
        hp->columns.front() == Column::employee) {
      FormLine& prev = b.form.lines.back();
      for (const auto& c : cells) {
        size_t col = 0;
        for (size_t k = 0; k < hp->cells.size(); ++k)
          if (hp->cells[k].start <= c.start + 1) col = k;
        auto append = [&](std::string& field) {
          field = field.empty() ? c.text : field + " " + c.text;
        };
        switch (hp->columns[col]) {
          case Column::programme:
            append(prev.programme_text);
            prev.programme = parse_programme(prev.programme_text);
            break;
          case Column::place:
            append(prev.study_place);
            break;
          case Column::state:
            append(prev.state_text);
            prev.state_status = parse_state(prev.state_text, prev.state_grant);
            break;
          default:
            break;
        }
      }
      last_row_line = ln;
      continue;
    }

    // A labelled field. Inside a table a line with several cells is a row, whatever its first
    // word ("Eier Hansen | ABLU | ...").
    std::optional<LabelMatch> m;
    if (!(hp && cells.size() >= 3)) m = match_label(lower);
    if (m) {
      in_table = false;
      std::string_view rest_line = body;
      std::string_view rest_lower = lower;
      std::optional<LabelMatch> cur = m;
      pending_label.reset();
      for (int guard = 0; cur && guard < 8; ++guard) {
        std::string_view rest;
        std::string value = label_value(rest_line, rest_lower, cur->end, &rest);
        if (value.empty() && rest.empty()) {
          pending_label = cur->field;
          break;
        }
        b.set_field(cur->field, value);
        if (rest.empty()) break;
        size_t off = static_cast<size_t>(rest.data() - rest_line.data());
        rest_line = rest;
        rest_lower = rest_lower.substr(off);
        cur = match_label(rest_lower);
      }
      continue;
    }
    if (pending_label) {
      b.set_field(*pending_label, text::collapse_spaces(body));
      pending_label.reset();
      continue;
    }

    // A data row.
    if (cells.size() < 2) {
      // Prose: ends the table.
      in_table = false;
      continue;
    }
    if (!hp) {
      // Without a header only lines that look like the form's rows count.
      if (cells.size() < 4 || cells.size() > 5) continue;
      if (!map_row(cells, nullptr, kind, cols)) continue;
      bool amount = false, programme = false;
      for (size_t k = 0; k < cells.size(); ++k) {
        if (cols[k] == Column::cost && parse_amount(cells[k].text)) amount = true;
        if (cols[k] == Column::programme && parse_programme(cells[k].text) != Programme::OTHER)
          programme = true;
      }
      if (!looks_like_name(cells[0].text) || !(amount || programme)) continue;
    } else if (!map_row(cells, hp, kind, cols)) {
      if (blank_in_table) {
        // A blank line followed by something that is not a row: the table has ended.
        in_table = false;
        continue;
      }
      if (over_row_limit(b.form, limits, row_number, ln)) break;
      ++row_number;
      ++rows_since_header;
      b.form.unreadable_rows.push_back(
          "row " + std::to_string(row_number) + " (line " + std::to_string(ln + 1) +
          "): " + std::to_string(cells.size()) + " cells do not match the table's " +
          std::to_string(hp->columns.size()) + " columns");
      continue;
    }
    blank_in_table = false;
    FormLine fl;
    for (size_t k = 0; k < cells.size() && k < cols.size(); ++k) {
      const std::string& v = cells[k].text;
      switch (cols[k]) {
        case Column::employee:
          fl.employee = v;
          break;
        case Column::programme:
          fl.programme_text = v;
          fl.programme = parse_programme(v);
          break;
        case Column::place:
          fl.study_place = v;
          break;
        case Column::cost:
          fl.cost_text = v;
          fl.cost = parse_amount(v);
          break;
        case Column::state:
          fl.state_text = v;
          fl.state_status = parse_state(v, fl.state_grant);
          break;
        case Column::ignored:
          break;
      }
    }
    if (is_total_row(fl.employee)) continue;
    if (over_row_limit(b.form, limits, row_number, ln)) break;
    ++row_number;
    ++rows_since_header;
    if (fl.employee.empty() || !looks_like_name(fl.employee)) {
      b.form.unreadable_rows.push_back("row " + std::to_string(row_number) + " (line " +
                                       std::to_string(ln + 1) + "): no employee name");
      continue;
    }
    if (hp)
      ++b.header_rows;
    else
      ++b.headerless_rows;
    b.form.lines.push_back(std::move(fl));
    last_row_line = ln;
  }

  // The form reads as the form: its labels (a state letter's letterhead has "E-post:",
  // "Org.nr." and "Saksnr" too, but none of the applicant's own), or its table (a letter's own
  // table is skipped above).
  b.form.found = (b.labelled >= 2 && b.form_labels >= 1) || (b.header_seen && b.header_rows >= 1) ||
                 (b.labelled >= 1 && b.headerless_rows >= 1);
  return b.form;
}

std::vector<std::string> form_differences(const Form& a, const Form& b) {
  if (a.found != b.found) return {"form"};
  if (!a.found) return {};
  std::vector<std::string> out;
  if (a.org_number != b.org_number) out.emplace_back("organisation number");
  if (a.account_number != b.account_number) out.emplace_back("account number");
  if (text::to_lower(text::trim(a.contact_email)) != text::to_lower(text::trim(b.contact_email)))
    out.emplace_back("contact e-mail");
  if (text::name_key(a.owner) != text::name_key(b.owner)) out.emplace_back("owner");
  using Key =
      std::tuple<std::string, Programme, std::optional<Kroner>, StateStatus, std::optional<Kroner>>;
  auto keys = [](const Form& f) {
    std::vector<Key> k;
    k.reserve(f.lines.size());
    for (const FormLine& l : f.lines)
      k.emplace_back(text::name_key(l.employee), l.programme, l.cost, l.state_status,
                     l.state_grant);
    std::sort(k.begin(), k.end());
    return k;
  };
  if (keys(a) != keys(b)) out.emplace_back("lines");
  return out;
}

}  // namespace tilskudd
