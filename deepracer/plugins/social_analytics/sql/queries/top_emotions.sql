-- Labels and faces: how often each emotion is a face's top emotion, counting only top
-- emotions above 50 % confidence.
SELECT
  top_emotion.type AS emotion,
  count(*) AS count
FROM media_image_labels_face_query
WHERE top_emotion.confidence > 50
GROUP BY top_emotion.type
ORDER BY 2 DESC, 1
