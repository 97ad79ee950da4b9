// How the client commands print: tables and sentences for people, or JSON with --json (taken
// anywhere on the command line, before or after the subcommand).
#pragma once

#include <boost/json.hpp>
#include <string>

namespace openlab::cli {

struct Output {
  bool json = false;
};

// Prints `v` as one line of JSON on standard output.
void PrintJson(const boost::json::value& v);

// A number as a person reads it in a table: whole from 100 up, two decimals from 1, and two
// significant digits below 1, without trailing zeros or an exponent (0.0002777... -> 0.00028).
std::string HumanNumber(double v);

}  // namespace openlab::cli
