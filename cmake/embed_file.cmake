# Script mode: writes OUT defining `extern const char VAR[]` with the bytes of IN.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\nextern const char ${VAR}[];\nconst char ${VAR}[] = {${bytes} 0x00};\n")
