/* log/writer.c: placeholder until this part lands (issue 2). */
