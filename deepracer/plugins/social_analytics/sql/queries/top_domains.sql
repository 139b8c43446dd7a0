-- Buzz: the ten web sites linked most often (hosts of entities.urls[].expanded_url).
-- Equal counts are ordered by domain, so every engine returns the same ten.
SELECT
  lower(url_extract_host(u.expanded_url)) AS domain,
  count(*) AS count
FROM tweets
CROSS JOIN UNNEST(entities.urls) AS x (u)
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 10
