-- One row per recognize_celebrities match, with the tweet's text beside it.
CREATE OR REPLACE VIEW celeb_view AS
SELECT
  m.tweetid,
  m.mediaid,
  m.media_url,
  c.name,
  c.matchconfidence,
  t.text AS tweettext
FROM media_rekognition m
CROSS JOIN UNNEST(m.image_labels.celebrityfaces) AS u (c)
JOIN tweets t ON t.id = m.tweetid
