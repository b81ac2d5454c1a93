# embed_figures.cmake -- cmake -DDIR=cli/figures -DOUT=figure_files.c -P embed_figures.cmake
# Compiles the figures' files into the CLI as the table fig_files (cli/figure.h): every NAME.gp
# (a gnuplot script) and NAME.in (a template) byte for byte, every NAME.html (a caption) as one
# line: its lines joined by single spaces, surrounding white space dropped.
file(GLOB files RELATIVE ${DIR} ${DIR}/*.gp ${DIR}/*.html ${DIR}/*.in)
list(SORT files)
set(arrays "")
set(rows "")
set(i 0)
foreach(f IN LISTS files)
  if(f MATCHES "\\.html$")
    file(READ ${DIR}/${f} text)
    string(STRIP "${text}" text)
    string(REPLACE "\n" " " text "${text}")
    string(HEX "${text}" hex)
  else()
    file(READ ${DIR}/${f} hex HEX)
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" hex "${hex}")
  string(APPEND arrays "static const char f${i}[] = \"${hex}\";\n")
  string(APPEND rows "    {\"${f}\", f${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT}.tmp "/* generated from cli/figures/ by cmake/embed_figures.cmake: do not edit */\n"
                      "#include \"figure.h\"\n\n${arrays}\nconst fig_file fig_files[] = {\n${rows}    {0, 0},\n};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
