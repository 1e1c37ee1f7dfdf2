// One name table per domain enum, and the two functions every caller uses to go between a value
// and its name: the store (columns and their CHECK lists), the JSON of `inspect` and the admin
// commands, the admin commands' arguments and the logs all spell a value the same way.
//
// An enum takes part by declaring its table next to itself (in its own header):
//
//   enum class Colour { red, green };
//   inline constexpr EnumName<Colour> kColourNames[] = {{Colour::red, "red"},
//                                                       {Colour::green, "green"}};
//   constexpr std::span<const EnumName<Colour>> enum_table(Colour) { return kColourNames; }
//
// enum_table is found by argument-dependent lookup, so it lives in the enum's namespace. The
// table lists every value once, in declaration order; a test checks each table against the
// schema's CHECK lists (tests/unit/store_test.cpp).
#pragma once

#include <concepts>
#include <optional>
#include <span>
#include <string_view>

namespace tilskudd {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

template <class E>
concept NamedEnum = requires(E e) {
  { enum_table(e) } -> std::convertible_to<std::span<const EnumName<E>>>;
};

// Every value with its name, in declaration order.
template <NamedEnum E>
constexpr std::span<const EnumName<E>> enum_names() {
  return enum_table(E{});
}

// The value's name ("" for a value outside the table, which only a cast can make).
template <NamedEnum E>
constexpr std::string_view enum_name(E e) {
  for (const EnumName<E>& n : enum_table(e))
    if (n.value == e) return n.name;
  return {};
}

// The value named exactly `name` (case-sensitive); nullopt for any other text.
template <NamedEnum E>
constexpr std::optional<E> parse_enum(std::string_view name) {
  for (const EnumName<E>& n : enum_table(E{}))
    if (n.name == name) return n.value;
  return std::nullopt;
}

}  // namespace tilskudd
