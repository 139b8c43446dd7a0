-- One row per detect_labels label of each analysed photo.
CREATE OR REPLACE VIEW media_image_labels_query AS
SELECT
  m.tweetid,
  m.mediaid,
  m.media_url,
  l.name AS label_name,
  l.confidence AS label_confidence
FROM media_rekognition m
CROSS JOIN UNNEST(m.image_labels.labels) AS u (l)
