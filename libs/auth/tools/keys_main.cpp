// carematch-keys: makes Ed25519 signing keys and prints their public halves, for deploy scripts.
//   carematch-keys new <kid>        prints "kid:base64(seed)" (a secret: auth.signing_key)
//   carematch-keys public <file>    reads a signing key from <file>, prints "kid:base64(public key)"
//                                   (an entry of auth.verify_keys)
#include <carematch/auth/jwt.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
    using namespace carematch::auth;
    const std::string cmd = argc == 3 ? argv[1] : "";
    try {
        if (cmd == "new") {
            std::cout << format_signing_key(generate_signing_key(argv[2])) << "\n";
            return 0;
        }
        if (cmd == "public") {
            std::ifstream in(argv[2]);
            std::stringstream ss;
            ss << in.rdbuf();
            std::string spec = ss.str();
            while (!spec.empty() && (spec.back() == '\n' || spec.back() == '\r' || spec.back() == ' ')) {
                spec.pop_back();
            }
            const signing_key k = parse_signing_key(spec);
            std::cout << public_key_spec(k) << "\n";
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "carematch-keys: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: carematch-keys new <kid> | carematch-keys public <signing key file>\n");
    return 2;
}
