-- Suspect content: photos with moderation labels, or tweets Twitter marked
-- possibly_sensitive, one row per link of the tweet (UNNEST drops tweets without links).
SELECT
  m.tweetid,
  t.possibly_sensitive,
  transform(m.image_labels.moderationlabels, ml -> ml.name) AS moderationlabels,
  m.mediaid,
  m.media_url,
  t.text,
  u.expanded_url AS url,
  CASE WHEN substr(t.text, 1, 2) = 'RT' THEN true ELSE false END AS isretweet
FROM media_rekognition m
JOIN tweets t ON t.id = m.tweetid
CROSS JOIN UNNEST(t.entities.urls) AS x (u)
WHERE cardinality(m.image_labels.moderationlabels) > 0
   OR t.possibly_sensitive = true
ORDER BY m.tweetid, m.mediaid, url
