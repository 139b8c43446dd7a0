-- Celebrities: the images of one celebrity, named in the tweet or recognized with
-- MatchConfidence above 75, with the first line of text in the image, if any.
-- The quoted placeholder below is replaced by the configured name, lower-cased.
SELECT
  c.media_url,
  count(*) AS count,
  r.detectedtext
FROM celeb_view c
LEFT JOIN (  -- left join: images without text stay
  SELECT m.tweetid, m.mediaid, d.detectedtext
  FROM media_rekognition m
  CROSS JOIN UNNEST(m.image_labels.textdetections) AS x (d)
  WHERE d.type = 'LINE' AND d.id = 0  -- the first line
) r ON r.mediaid = c.mediaid AND r.tweetid = c.tweetid
WHERE position('{celebrity}' IN lower(c.tweettext)) > 0
   OR (position('{celebrity}' IN lower(c.name)) > 0 AND c.matchconfidence > 75)
GROUP BY c.media_url, r.detectedtext
ORDER BY count(*) DESC, c.media_url
