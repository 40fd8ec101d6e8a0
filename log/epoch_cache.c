/* log/epoch_cache.c: placeholder until this part lands (issue 2). */
