-- Ours, not the article's: tweet sentiment split by whether the tweet has an analysed photo.
SELECT
  s.sentiment,
  count_if(p.tweetid IS NOT NULL) AS with_photo,
  count_if(p.tweetid IS NULL) AS without_photo,
  count(*) AS tweets
FROM tweet_sentiments s
LEFT JOIN (SELECT DISTINCT tweetid FROM media_rekognition) p ON p.tweetid = s.tweetid
GROUP BY s.sentiment
ORDER BY s.sentiment
