// The API documents (OpenAPI 3.1): each service embeds its own (services/<name>/openapi.json, compiled in by
// carematch_embed_openapi) and serves it at GET /openapi.json; a process running several serves their union.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace carematch::runtime {

/// One document from several: the first one's `openapi`, `info` and security schemes, every document's paths,
/// tags and component schemas (a path or schema named twice must be the same, else std::invalid_argument).
/// One document comes back as it is.
std::string merge_openapi(const std::vector<std::string_view>& documents);

}  // namespace carematch::runtime
