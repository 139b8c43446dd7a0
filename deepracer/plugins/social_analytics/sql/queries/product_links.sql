-- Buzz: links to Amazon product pages (/dp/ in the path) from tweets with analysed photos,
-- with the first text detection of each photo. The host list is the article's, as written.
SELECT
  l.id AS tweetid,
  l.user_name,
  r.media_url,
  element_at(r.text_detections, 1).detectedtext AS first_line,
  l.expanded_url,
  l.text
FROM (
  SELECT id, "user".name AS user_name, text, u.expanded_url
  FROM tweets
  CROSS JOIN UNNEST(entities.urls) AS x (u)
) l
JOIN (
  SELECT tweetid, media_url, image_labels.textdetections AS text_detections
  FROM media_rekognition
) r ON r.tweetid = l.id
WHERE lower(url_extract_host(l.expanded_url))
        IN ('www.amazon.com', 'amazon.com', 'www.amazon.com.uk', 'amzn.to')
  AND position('/dp/' IN url_extract_path(l.expanded_url)) > 0  -- a product detail page
ORDER BY tweetid, r.media_url
LIMIT 50
