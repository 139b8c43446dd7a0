-- Labels and faces: every face in photos of tweets linking to an Amazon site, with its top
-- emotion, all the view's face attributes and the tweet's author.
SELECT
  f.top_emotion.type AS emotion,
  f.top_emotion.confidence AS emotion_confidence,
  f.*,
  t."user".id AS user_id,
  t."user".screen_name,
  t."user".name AS user_name,
  u.expanded_url AS url
FROM media_image_labels_face_query f
JOIN tweets t ON t.id = f.tweetid
CROSS JOIN UNNEST(t.entities.urls) AS x (u)
WHERE position('.amazon.' IN u.expanded_url) > 0
ORDER BY f.tweetid, f.mediaid, url
