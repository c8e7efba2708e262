# sandmine_embed_data(TARGET VAR FILE): compiles FILE into TARGET as
# `extern const char VAR[]` (tables are data: data/*.csv, shipped inside the binary).
function(sandmine_embed_data target var file)
  set(out ${CMAKE_BINARY_DIR}/embedded/${var}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DVAR=${var} -P ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${file} ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake
    COMMENT "Embedding ${file}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
